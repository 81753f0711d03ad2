import { Driver } from "./dist/src/index.js";
const d = await Driver.connect(process.argv[2]);
try { await d.createTopic("rx" + Date.now(), { partitions: 1, replicas: Number(process.argv[3]) }); console.log("created"); } catch (e) { console.log(e.name, e.code, e.retriable, e.message); }
await d.close();
