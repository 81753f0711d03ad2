// `tributary topic`: plugin config from a file or inline JSON (a json-schema topic that
// then validates what `produce` sends), --replicas, --if-not-exists, the library's
// default partition count, readable tables and --json.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES } from "../helpers.js";
import { cli, fileBroker } from "./run.js";

const broker = fileBroker();

const schema = { type: "object", required: ["energy"], properties: { energy: { type: "integer", maximum: 100 } } };

describe("tributary topic", () => {
  it("creates a json-schema topic with its config from a file or inline JSON; produce is then validated by it", async () => {
    const file = path.join(broker.dir, "validator.json");
    fs.writeFileSync(file, JSON.stringify({ schema }));
    const [fromFile, inline] = await Promise.all([
      cli(["topic", "create", "energy", "--validator", "json-schema", "--validator-config", file, "--selector", "key-hash"], { env: broker.env }),
      cli(["topic", "create", "energy2", "--validator", "json-schema", "--validator-config", JSON.stringify({ schema }), "--json"], { env: broker.env }),
    ]);
    expect(fromFile).toMatchObject({ code: 0, stdout: "created: 'energy': 1 partition, 1 replica, pipeline json-schema (+config) / key-hash / json\n" });
    expect(JSON.parse(inline.stdout).pipeline.validator).toEqual({ module: "tributary/validators/json-schema", export: "default", config: { schema } });

    const produced = await cli(["produce", "energy", "--threads", "0"], { env: broker.env, input: '{"energy":7}\n{"energy":700}\n' });
    expect(produced.code).toBe(1);
    expect(produced.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual(
      expect.arrayContaining([{ line: 1, partition: 0, id: 0 }, { line: 2, error: expect.stringMatching(/^rejected by the validator: .*energy.*100/), code: "VALIDATION" }]),
    );

    // A custom plugin in the short form Export:module gets its config too.
    const custom = await cli(["topic", "create", "costly", "--validator", `CostlyValidator:${FIXTURES}`, "--validator-config", '{"factor":2}', "--json"], { env: broker.env });
    expect(JSON.parse(custom.stdout).pipeline.validator).toEqual({ module: FIXTURES, export: "CostlyValidator", config: { factor: 2 } });

    const described = await cli(["topic", "describe", "energy"], { env: broker.env });
    expect(described.stdout).toContain(`validator   json-schema ${JSON.stringify({ schema })}`);
    expect(described.stdout).toMatch(/PARTITION +EVENTS \(NEXT ID\) +BYTES\n0 +1 +\d+/);
  });

  it("creates with the library's default partition count; --replicas and --if-not-exists reach the library", async () => {
    const library = await broker.driver.createTopic("by-library");
    const plain = await cli(["topic", "create", "by-cli", "--json"], { env: broker.env });
    expect(JSON.parse(plain.stdout).partitions).toBe(library.partitions);

    const again = await cli(["topic", "create", "by-cli", "--partitions", "9"], { env: broker.env });
    expect(again).toMatchObject({ code: 1, stderr: "tributary: topic 'by-cli' already exists\n" });
    const ifNotExists = await cli(["topic", "create", "by-cli", "--partitions", "9", "--if-not-exists"], { env: broker.env });
    expect(ifNotExists).toMatchObject({ code: 0, stdout: expect.stringMatching(/^exists already: 'by-cli': 1 partition,/) });
    const fresh = await cli(["topic", "create", "fresh", "--partitions", "3", "--replicas", "1", "--if-not-exists"], { env: broker.env });
    expect(fresh).toMatchObject({ code: 0, stdout: "created: 'fresh': 3 partitions, 1 replica, pipeline default / round-robin / json\n" });
    // The tributary broker keeps one copy: the flag arrives, the library says no.
    const replicas = await cli(["topic", "create", "copies", "--replicas", "2"], { env: broker.env });
    expect(replicas).toMatchObject({ code: 1, stderr: expect.stringContaining("replicas must be 1, got 2") });
  });

  it("lists and describes as readable tables, or JSON with --json", async () => {
    await cli(["topic", "create", "tabled", "--partitions", "2", "--serializer", "binary"], { env: broker.env });
    const [list, listJson, describe, describeJson] = await Promise.all([
      cli(["topic", "list"], { env: broker.env }),
      cli(["topic", "list", "--json"], { env: broker.env }),
      cli(["topic", "describe", "tabled"], { env: broker.env }),
      cli(["topic", "describe", "tabled", "--json"], { env: broker.env }),
    ]);
    const rows = list.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^NAME +PARTITIONS +REPLICAS +EVENTS PER PARTITION +PIPELINE$/);
    expect(rows).toContainEqual(expect.stringMatching(/^tabled +2 +1 +0, 0 +default \/ round-robin \/ binary$/));
    // Columns line up: every row has PARTITIONS where the header has it.
    const at = rows[0]!.indexOf("PARTITIONS");
    for (const r of rows.slice(1)) expect(r[at - 2]).toBe(" ");
    expect(listJson.stdout.trim().split("\n").map((l) => JSON.parse(l).name)).toContain("tabled");
    expect(describe.stdout).toMatch(/^name {8}tabled\nid {10}\w+\npartitions {2}2\nreplicas {4}1\ncreated {5}\d{4}-\d\d-\d\dT.*Z\nvalidator {3}default\nselector {4}round-robin\nserializer {2}binary\n\nPARTITION/);
    expect(JSON.parse(describeJson.stdout)).toMatchObject({ name: "tabled", partitions: 2, partitionInfo: [{ partition: 0, nextOffset: 0 }, { partition: 1, nextOffset: 0 }] });
  });
});
