/**
 * The HS256 bearer token Comeet expects: claims exactly `iss` (the account API key) and `exp`
 * (now + 600 s), signed with the integration secret. Minted once and reused until ~60 s before expiry.
 */
import { SignJWT } from 'jose';

export const TOKEN_LIFETIME_S = 600;
export const REMINT_BEFORE_EXPIRY_S = 60;

export interface TokenSourceOptions {
  apiKey: string;
  secret: string;
  now?: () => number;
}

export class ComeetTokenSource {
  private readonly key: Uint8Array;
  private readonly apiKey: string;
  private readonly now: () => number;
  private cached: { jwt: string; exp: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(options: TokenSourceOptions) {
    this.apiKey = options.apiKey;
    this.key = new TextEncoder().encode(options.secret);
    this.now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    const nowS = Math.floor(this.now() / 1000);
    if (this.cached && nowS < this.cached.exp - REMINT_BEFORE_EXPIRY_S) return this.cached.jwt;
    // Concurrent callers share one signing instead of minting a token each.
    this.pending ??= this.mint(nowS).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async mint(nowS: number): Promise<string> {
    const exp = nowS + TOKEN_LIFETIME_S;
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer(this.apiKey).setExpirationTime(exp).sign(this.key);
    this.cached = { jwt, exp };
    return jwt;
  }
}
