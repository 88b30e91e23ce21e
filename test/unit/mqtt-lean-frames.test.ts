import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodeConnect, encodePuback, encodePublish, encodeSubscribe } from '../../src/drivers/mqtt/lean-frames.js';
import { releasePacketId, reservePacketId, type InflightIds } from '../../src/drivers/mqtt/lean-inflight.js';

describe('lean MQTT frame encoders', () => {
  it('encodes PUBLISH exactly as mqtt-packet does, across length-field sizes', () => {
    for (const size of [0, 1, 120, 127, 200, 16_380, 16_400, 2_100_000]) {
      for (const qos of [0, 1] as const) {
        const payload = Buffer.alloc(size, size % 251);
        const topic = 'fleet/dev-ü/telemetry';
        const ours = encodePublish(topic, payload, qos, 513);
        const theirs = mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId: qos === 1 ? 513 : undefined, retain: false, dup: false });
        expect(ours?.equals(theirs), `size ${size} qos ${qos}`).toBe(true);
      }
    }
  });

  it('encodes PUBACK exactly as mqtt-packet does', () => {
    for (const id of [1, 255, 256, 65535]) {
      expect(encodePuback(id).equals(mqttPacket.generate({ cmd: 'puback', messageId: id }))).toBe(true);
    }
  });

  it('encodes CONNECT exactly as mqtt-packet does, with and without credentials, across length-field sizes', () => {
    const cases = [
      { clientId: 'dev-1', keepalive: 60 },
      { clientId: '', keepalive: 0 },
      { clientId: 'gw-ü-7', username: 'dev-ü', keepalive: 65535 },
      { clientId: 'run1-dev-42', username: 'dev-42', password: 'k'.repeat(40), keepalive: 300 },
      { clientId: 'c'.repeat(200), username: 'u'.repeat(16_000), password: 'p'.repeat(300), keepalive: 1 },
    ];
    for (const f of cases) {
      const theirs = mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: f.clientId,
        keepalive: f.keepalive,
        username: f.username,
        password: f.password === undefined ? undefined : Buffer.from(f.password),
      });
      expect(encodeConnect(f).equals(theirs), f.clientId).toBe(true);
    }
    expect(() => encodeConnect({ clientId: 'x', password: 'p', keepalive: 60 })).toThrow(/username/);
  });

  it('encodes SUBSCRIBE exactly as mqtt-packet does', () => {
    for (const [id, topic, qos] of [[1, 'fleet/dev-1/commands', 1], [65535, 'a/ü/#', 0], [300, 't'.repeat(200), 1]] as const) {
      const theirs = mqttPacket.generate({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic, qos }] });
      expect(encodeSubscribe(id, topic, qos).equals(theirs), topic.slice(0, 20)).toBe(true);
    }
  });
});

describe('lean in-flight packet ids', () => {
  const fresh = (): InflightIds => ({ ids: null, tokens: null, lastId: 0, inflight: 0, soloId: 0, soloToken: 0 });

  it('hands out ids in sequence and returns each token once', () => {
    const t = fresh();
    const ids = [10, 11, 12].map((token) => reservePacketId(t, token));
    expect(ids).toEqual([1, 2, 3]);
    expect(releasePacketId(t, 2)).toBe(11);
    expect(releasePacketId(t, 2)).toBeUndefined();
    expect(releasePacketId(t, 77)).toBeUndefined();
    expect(t.inflight).toBe(2);
  });

  it('keeps one message at a time in the solo fields, without a table, and moves it into one when a second follows', () => {
    const t = fresh();
    for (let i = 1; i <= 100; i++) {
      expect(reservePacketId(t, i * 3)).toBe(i);
      expect(releasePacketId(t, i)).toBe(i * 3);
    }
    expect(t.ids).toBeNull();
    expect(releasePacketId(t, 100)).toBeUndefined();
    expect(reservePacketId(t, 7)).toBe(101);
    expect(reservePacketId(t, 8)).toBe(102); // the first is still in flight: the table appears, holding both
    expect(t.ids).not.toBeNull();
    expect(t.soloId).toBe(0);
    expect(t.inflight).toBe(2);
    expect(releasePacketId(t, 101)).toBe(7);
    expect(releasePacketId(t, 101)).toBeUndefined();
    expect(releasePacketId(t, 102)).toBe(8);
    expect(t.inflight).toBe(0);
  });

  it('grows past its capacity and keeps every token, with acks out of order', () => {
    const t = fresh();
    for (let token = 0; token < 5000; token++) expect(reservePacketId(t, token * 2)).toBe(token + 1);
    for (let id = 5000; id >= 1; id -= 2) expect(releasePacketId(t, id)).toBe((id - 1) * 2);
    for (let id = 1; id <= 5000; id += 2) expect(releasePacketId(t, id)).toBe((id - 1) * 2);
    expect(t.inflight).toBe(0);
  });

  it('wraps from 65535 to 1, skipping ids still in flight, and says 0 when all are taken', () => {
    const t = fresh();
    const first = reservePacketId(t, -1); // id 1 stays in flight throughout
    expect(first).toBe(1);
    t.lastId = 65534;
    expect(reservePacketId(t, 5)).toBe(65535);
    expect(reservePacketId(t, 6)).toBe(2); // 1 is taken
    expect(releasePacketId(t, 65535)).toBe(5);
    const full = fresh();
    for (let i = 0; i < 65535; i++) reservePacketId(full, i);
    expect(reservePacketId(full, 99)).toBe(0);
    expect(releasePacketId(full, 400)).toBe(399);
    expect(reservePacketId(full, 99)).toBe(400);
  });
});
