import { loraAirtimeMs, LORAWAN_OVERHEAD_BYTES, loraParams } from '../../src/models/lorawan.js';

/** Airtime of one telemetry frame as the engine models it (SF7, BW125, LoRaWAN MAC overhead). */
export function airtimeOfTelemetry(payloadBytes: number): number {
  return loraAirtimeMs(payloadBytes + LORAWAN_OVERHEAD_BYTES, loraParams(7));
}
