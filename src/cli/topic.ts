import { parseArgs } from "node:util";
import { Driver } from "../client/driver.js";
import { brokerUrl, clientOptions, intFlag, UsageError } from "./usage.js";

/** `tributary topic create|list|describe|delete`. */
export async function topicCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      broker: { type: "string" },
      partitions: { type: "string" },
      replicas: { type: "string" },
      validator: { type: "string" },
      selector: { type: "string" },
      serializer: { type: "string" },
    },
  });
  const [action, name] = positionals;
  if (action !== "create" && action !== "list" && action !== "describe" && action !== "delete") {
    throw new UsageError(`topic needs create, list, describe or delete, got '${action ?? ""}'`);
  }
  if (action !== "list" && !name) throw new UsageError(`topic ${action} needs a NAME`);
  const partitions = intFlag("partitions", values.partitions, 4);
  const replicas = intFlag("replicas", values.replicas, 1);
  const driver = await Driver.connect(brokerUrl(values.broker), { tributary: clientOptions() });
  try {
    switch (action) {
      case "create":
        console.log(
          JSON.stringify(
            await driver.createTopic(name!, { partitions, replicas, validator: values.validator, partitionSelector: values.selector, serializer: values.serializer }),
          ),
        );
        break;
      case "list":
        for (const t of await driver.listTopics()) console.log(JSON.stringify(t));
        break;
      case "describe":
        console.log(JSON.stringify(await driver.describeTopic(name!), null, 2));
        break;
      case "delete":
        await driver.deleteTopic(name!);
        console.log(`deleted ${name}`);
        break;
    }
  } finally {
    await driver.close();
  }
}
