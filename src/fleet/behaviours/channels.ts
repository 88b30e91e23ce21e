/** Tokens of `publishFleet`, by what was published: the router hands each ack to its behaviour. */
export const Channel = { configAck: 1, commandResult: 2, eol: 3 } as const;

/** True when `payload` starts with `{"type":"<type>"` (our backends write the type first). */
export function isMessageType(payload: Buffer, type: string): boolean {
  const head = `{"type":"${type}"`;
  return payload.length > head.length && payload.toString('latin1', 0, head.length) === head;
}
