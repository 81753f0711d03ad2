/** How a tributary client proves itself to a broker, and whom it trusts (`Driver.connect(url, { tributary })`). */
export interface TributaryConnectOptions {
  /** Bearer token, sent as `authorization: Bearer <token>` on every call (`tributary serve --auth`). */
  token?: string;
  /**
   * TLS (also implied by a `tributarys://` URL). `ca`: PEM of the CA to trust instead of
   * the system's; `cert` and `key`: a client certificate, for brokers that require one.
   */
  tls?: { ca?: string | Uint8Array; cert?: string | Uint8Array; key?: string | Uint8Array };
}
