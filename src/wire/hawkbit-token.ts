import { createHmac } from 'node:crypto';

/**
 * The TargetToken of hawkBit target `controllerId` in a fleetsim fleet with secret `secret`. On
 * the platform the operator sets each target's token through the management API; fleetsim
 * derives it, so the hawkBit fake (which registers targets) and the hawkBit preset (whose devices
 * present them) agree without sharing a table.
 */
export function hawkbitTargetToken(secret: string, controllerId: string): string {
  return createHmac('sha256', secret).update(controllerId).digest('base64url').slice(0, 32);
}
