/** The storage contract over the local TSDB (src/storage), the storage of every node. */
import { openTSDB } from "../../src/storage/index.ts";
import { removeTempDir, tempDir } from "../support/index.ts";
import { runStorageContract } from "./storage.case.ts";

runStorageContract("local TSDB", async () => {
  const dir = tempDir("contract-tsdb");
  const db = await openTSDB({ dir });
  return {
    appendable: db,
    queryable: db,
    async close() {
      await db.close();
      removeTempDir(dir);
    },
  };
});
