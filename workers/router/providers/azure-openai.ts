import { chatCompletions, embeddings, openAiErrors } from "./openai.ts";
import type { Operation, ProviderConfig } from "./types.ts";

/**
 * Azure OpenAI: `/openai/deployments/<deployment>/<operation>?api-version=…`; the deployment
 * in the path is the model (routed and aliased like any model), the key goes in `api-key`.
 */
const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\//;
const inPath = (operation: Operation, tail: string): Operation => ({ ...operation, model: "path", path: new RegExp(`^/openai/deployments/[^/]+/${tail}$`) });

export const azureOpenai: ProviderConfig = {
  kind: "azure_openai",
  dialect: "openai",
  operations: [inPath(chatCompletions, "chat/completions"), inPath(embeddings, "embeddings")],
  errors: openAiErrors,
  credentialHeaders: (secret) => ({ "api-key": secret }),
  pathModel: {
    read: (path) => {
      const m = DEPLOYMENT.exec(path)?.[1];
      return m ? decodeURIComponent(m) : undefined;
    },
    write: (path, model) => path.replace(DEPLOYMENT, `/openai/deployments/${encodeURIComponent(model)}/`),
  },
};
