/**
 * Where the broker says what it found and what it did about it: damage cut at recovery,
 * topics left offline, a stale directory lock taken over. Never silent, never noisy:
 * one line per finding.
 */
export interface BrokerLogger {
  warn(message: string): void;
  info(message: string): void;
}

/** The default: one line on stderr per message. */
export const stderrLogger: BrokerLogger = {
  warn: (message) => void process.stderr.write(`tributary broker: warning: ${message}\n`),
  info: (message) => void process.stderr.write(`tributary broker: ${message}\n`),
};
