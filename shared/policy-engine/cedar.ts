// Cedar, loaded once per isolate. workerd cannot start the package's default (bundler)
// build (`__wbindgen_start is not a function`), so this uses its `web` build and hands it
// the `.wasm` as a precompiled module: wrangler (deploy, dev, the test harness) and the
// vitest plugin both turn a `*.wasm` import into a `WebAssembly.Module` (CompiledWasm).
// The package's exports map does not list the `.wasm` file, so it is imported by its path
// under node_modules. (TypeScript reads that path's own `.wasm.d.ts`, which types the
// instance's exports, hence the namespace import: at runtime its `default` is the module.)
import { initSync } from "@cedar-policy/cedar-wasm/web";
import * as cedarWasm from "../../node_modules/@cedar-policy/cedar-wasm/web/cedar_wasm_bg.wasm";

initSync({ module: (cedarWasm as unknown as { default: WebAssembly.Module }).default });

export * from "@cedar-policy/cedar-wasm/web";
