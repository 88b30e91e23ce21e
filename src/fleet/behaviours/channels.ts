/** Tokens of the fleet uplinks (DeviceDriver.replyCommand, ackConfig, reportEndOfLine), by what was published: the router hands each ack to its behaviour. */
export const Channel = { configAck: 1, commandResult: 2, eol: 3 } as const;

