// The command line itself: version, usage errors (exit 2, naming the flag, no stack
// trace), other errors (exit 1, one line, the stack only with TRIBUTARY_DEBUG=1).
// `--help` of every command is checked with the README (readme.test.ts).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { cli, fileBroker, STACK_LINE } from "./run.js";

const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

const broker = fileBroker();

describe("command line", () => {
  it("prints the version of package.json with --version and -v", async () => {
    const [long, short] = await Promise.all([cli(["--version"]), cli(["-v"])]);
    expect(long).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(short).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("refuses unknown and malformed flags with exit code 2, naming the flag and pointing at the command's help", async () => {
    const cases: [string[], RegExp][] = [
      [["consume", "t", "--bogus"], /unknown option '--bogus'[^]*Run 'tributary consume --help' for usage/],
      [["demo", "--events", "-5"], /option '--events <N>' argument '-5' is invalid\. It must be an integer of at least 1/],
      [["topic", "create", "x", "--partitions", "x"], /option '--partitions <N>' argument 'x' is invalid[^]*Run 'tributary topic create --help'/],
      [["produce", "t", "--acks", "sometimes"], /option '--acks <MODE>' argument 'sometimes' is invalid\. Allowed choices are each, errors, summary/],
      [["produce", "t", "--threads", "many"], /option '--threads <N\|auto>' argument 'many' is invalid/],
      [["produce", "t", "--events", "5"], /--events is a flag of the showcase \(tributary demo\), not of produce TOPIC/],
      [["consume", "t", "--from", "yesterday"], /option '--from <POSITION>' argument 'yesterday' is invalid\. It must be earliest, latest, an event ID, or @TIME/],
      [["consume", "t", "--partition", "-1"], /option '--partition <N>' argument '-1' is invalid/],
      [["serve", "--dir", "d", "--limit", "maxToppics=5"], /option '--limit <NAME=N>' argument 'maxToppics=5' is invalid\. It must be NAME=INTEGER with NAME one of maxEventBytes/],
      [["serve", "--dir", "d", "--fsync", "sometimes"], /Allowed choices are always, interval, never/],
      [["serve", "--dir", "d", "--tls-cert", "c.pem"], /cannot read c\.pem/],
      [["topic", "create", "x", "--validator-config", "{nope"], /option '--validator-config <FILE\|JSON>' argument '\{nope' is invalid\. It is not valid JSON/],
      [["topic", "create", "x", "--validator-config", "/no/such/file.json"], /argument '\/no\/such\/file\.json' is invalid\. It is neither inline JSON nor a readable file \(ENOENT\)/],
      [["topic", "create", "x", "--selector-config", "{}"], /--selector-config needs --selector/],
      [["topic", "frob"], /unknown command 'frob'/],
      [["consume"], /missing required argument 'TOPIC'/],
      [["consume", "a", "b"], /too many arguments for 'consume'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args, { env: { TRIBUTARY_BROKER: broker.url } })));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 2, stderr: expect.stringMatching(message) });
      expect(r.stderr).toMatch(/^tributary: /);
      expect(r.stderr).not.toMatch(STACK_LINE);
    });
  });

  it("reports other errors as one line with exit code 1, and the stack trace only under TRIBUTARY_DEBUG=1", async () => {
    const [unknown, badUrl, debug, unreachable] = await Promise.all([
      cli(["topic", "describe", "nope", "--broker", broker.url]),
      cli(["topic", "list", "--broker", "http://nope"]),
      cli(["topic", "describe", "nope", "--broker", broker.url], { env: { TRIBUTARY_DEBUG: "1" } }),
      cli(["topic", "list"], { env: { TRIBUTARY_BROKER: "tributary://127.0.0.1:1" } }),
    ]);
    expect(unknown).toMatchObject({ code: 1, stdout: "", stderr: "tributary: topic 'nope' does not exist\n" });
    expect(badUrl).toMatchObject({ code: 1, stderr: expect.stringMatching(/^tributary: no driver for 'http:\/\/' .* tributary:\/\/host:port/) });
    expect(badUrl.stderr).not.toMatch(STACK_LINE);
    expect(debug).toMatchObject({ code: 1, stderr: expect.stringMatching(/^tributary: BrokerError: topic 'nope' does not exist\n/) });
    expect(debug.stderr).toMatch(STACK_LINE);
    // $TRIBUTARY_BROKER is where client commands go without --broker.
    expect(unreachable).toMatchObject({ code: 1, stderr: expect.stringContaining("127.0.0.1:1") });
    expect(unreachable.stderr).not.toMatch(STACK_LINE);
  });
});
