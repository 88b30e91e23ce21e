/**
 * AWS IoT Core's published message-broker quotas the fake enforces, and how: the defaults are the
 * quota page's values (docs/presets/aws-iot.md, "Limits"); a test or a scenario may lower the
 * adjustable ones to see the behaviour without a fleet of that size.
 */
export interface AwsIotLimits {
  /** Connect requests per second per account (adjustable; default 500). */
  connectsPerSecondPerAccount: number;
  /** Connect requests per second per client ID (not adjustable: 1). */
  connectsPerSecondPerClientId: number;
  /** Inbound publish requests per second per connection (not adjustable: 100). */
  publishesPerSecondPerConnection: number;
  /** Largest PUBLISH payload, bytes (128 KB). */
  maxPayloadBytes: number;
  /** Forward slashes in a topic (7, not counting a Basic Ingest prefix). */
  maxTopicSlashes: number;
  /** Client ID size, bytes (128). */
  maxClientIdBytes: number;
  /** Topic filters in one SUBSCRIBE (8). */
  maxFiltersPerSubscribe: number;
}

export const AWS_IOT_DEFAULT_LIMITS: Readonly<AwsIotLimits> = Object.freeze({
  connectsPerSecondPerAccount: 500,
  connectsPerSecondPerClientId: 1,
  publishesPerSecondPerConnection: 100,
  maxPayloadBytes: 128 * 1024,
  maxTopicSlashes: 7,
  maxClientIdBytes: 128,
  maxFiltersPerSubscribe: 8,
});

/**
 * A token bucket of `ratePerSec` tokens a second, holding at most one second's worth: the quota
 * pages state rates per second, so a burst of up to one second's quota passes at once.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly ratePerSec: number, now: number) {
    this.tokens = ratePerSec;
    this.at = now;
  }

  /** Takes one token; false when the rate is exceeded (nothing is taken). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.at) / 1000;
    this.at = now;
    this.tokens = Math.min(this.ratePerSec, this.tokens + elapsed * this.ratePerSec);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * CONNECT admission: the account's rate, and the per-client-ID rate (a client ID may connect again
 * only 1/rate seconds after its last admitted CONNECT). Memory: one number per client ID seen.
 */
export class ConnectAdmission {
  private readonly account: TokenBucket;
  private readonly lastByClientId = new Map<string, number>();
  private readonly minGapMs: number;

  constructor(limits: AwsIotLimits, now: number) {
    this.account = new TokenBucket(limits.connectsPerSecondPerAccount, now);
    this.minGapMs = 1000 / limits.connectsPerSecondPerClientId;
  }

  /** 'ok', or which quota the CONNECT exceeds (checked per client ID first: that one is not adjustable). */
  admit(clientId: string, now: number): 'ok' | 'client-id' | 'account' {
    const last = this.lastByClientId.get(clientId);
    if (last !== undefined && now - last < this.minGapMs) return 'client-id';
    if (!this.account.take(now)) return 'account';
    this.lastByClientId.set(clientId, now);
    return 'ok';
  }
}
