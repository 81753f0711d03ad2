import { parseArgs } from "node:util";
import { BrokerClient } from "../transport/broker-client.js";
import { brokerUrl, clientOptions, intFlag, UsageError } from "./usage.js";
import { toPluginSpecMsg } from "../client/topic-specs.js";

/** `tributary topic create|list|describe|delete`. */
export async function topicCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      broker: { type: "string" },
      partitions: { type: "string" },
      validator: { type: "string" },
      selector: { type: "string" },
      serializer: { type: "string" },
    },
  });
  const [action, name] = positionals;
  const client = new BrokerClient(brokerUrl(values.broker), clientOptions());
  try {
    switch (action) {
      case "create": {
        if (!name) throw new UsageError("topic create needs a NAME");
        const info = await client.createTopic({
          name,
          partitions: intFlag("partitions", values.partitions, 4),
          validator: toPluginSpecMsg("validator", values.validator),
          partitionSelector: toPluginSpecMsg("partitionSelector", values.selector),
          serializer: toPluginSpecMsg("serializer", values.serializer),
        });
        console.log(JSON.stringify(info));
        break;
      }
      case "list":
        for (const t of await client.listTopics()) console.log(JSON.stringify(t));
        break;
      case "describe":
        if (!name) throw new UsageError("topic describe needs a NAME");
        console.log(JSON.stringify(await client.describeTopic(name), null, 2));
        break;
      case "delete":
        if (!name) throw new UsageError("topic delete needs a NAME");
        await client.deleteTopic(name);
        console.log(`deleted ${name}`);
        break;
      default:
        throw new UsageError(`topic needs create, list, describe or delete, got '${action ?? ""}'`);
    }
  } finally {
    client.close();
  }
}
