import { describe, expect, it } from 'vitest';
import { isValidFilter, publishFrame, readConnect, readSubscriptions, subackFrame, topicMatches } from '../../src/backend/broker-lean-frames.js';
import { encodeConnect, encodeSubscribe } from '../../src/drivers/mqtt/lean-frames.js';

/** The body of a frame (past its fixed header) as the frame splitter hands it over. */
function body(frame: Buffer): [Buffer, number, number] {
  let at = 1;
  while ((frame[at] & 0x80) !== 0) at++;
  return [frame, at + 1, frame.length];
}

describe("the lean broker's frames", () => {
  it('reads a CONNECT with login, and refuses a truncated one or a set reserved flag', () => {
    const frame = encodeConnect({ clientId: 'c-1', username: 'd-1', password: 'key', keepalive: 45 });
    expect(readConnect(...body(frame))).toEqual({ level: 4, clean: true, keepaliveS: 45, clientId: 'c-1', username: 'd-1', password: 'key' });
    const [buf, start, end] = body(frame);
    expect(readConnect(buf, start, end - 1)).toBeUndefined();
    const reserved = Buffer.from(frame);
    reserved[start + 7] |= 0x01; // connect flags: after the protocol name (6) and level (1)
    expect(readConnect(...body(reserved))).toBeUndefined();
    const other = Buffer.from(frame);
    other[start + 6] = 5; // MQTT 5: answered with CONNACK 1
    expect(readConnect(...body(other))?.level).toBe(0);
  });

  it('reads SUBSCRIBE filters and writes SUBACK and PUBLISH frames byte for byte', () => {
    expect(readSubscriptions(...body(encodeSubscribe(7, 'fleet/d-1/commands', 1)), true)).toEqual({ packetId: 7, filters: ['fleet/d-1/commands'], qos: [1] });
    expect([...subackFrame(7, [1, 0x80])]).toEqual([0x90, 4, 0, 7, 1, 0x80]);
    expect([...publishFrame('a/b', Buffer.from('hi'), 1, 258)]).toEqual([0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 0x68, 0x69]);
    expect([...publishFrame('a', Buffer.from('x'), 0, 0)]).toEqual([0x30, 4, 0, 1, 0x61, 0x78]);
  });

  it('matches wildcards as MQTT 3.1.1 section 4.7 says', () => {
    expect(topicMatches('fleet/#', 'fleet/d-1/telemetry')).toBe(true);
    expect(topicMatches('fleet/#', 'fleet')).toBe(true);
    expect(topicMatches('fleet/+/telemetry', 'fleet/d-1/telemetry')).toBe(true);
    expect(topicMatches('fleet/+/telemetry', 'fleet/d-1/commands')).toBe(false);
    expect(topicMatches('fleet/+', 'fleet/d-1/telemetry')).toBe(false);
    expect(topicMatches('#', '$SYS/broker')).toBe(false);
    expect(isValidFilter('fleet/#')).toBe(true);
    expect(isValidFilter('fleet/#/x')).toBe(false);
    expect(isValidFilter('fleet/d+')).toBe(false);
  });

  it('checks filters level by level (4.7.1): a wildcard is alone in its level, # only last', () => {
    for (const ok of ['#', '+', '/', 'fleet/d-1/commands', '+/#', 'fleet/+/telemetry', '+/+', '/+', '+/', 'a//#', 'fleet/']) expect(isValidFilter(ok), ok).toBe(true);
    for (const bad of ['a#', '#a', '#/', '#/a', 'a/#/b', 'a+', '+a', 'a/+b/c', 'a/b+', '++', 'fleet/##']) expect(isValidFilter(bad), bad).toBe(false);
  });
});
