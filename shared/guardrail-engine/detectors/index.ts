import { PII_DETECTORS } from "./pii/index.ts";
import { SECRET_DETECTORS } from "./secrets/index.ts";
import { THREAT_DETECTORS } from "./threats/index.ts";
import type { Detector } from "./types.ts";

/** Every detector Airlock ships, in the order they run. */
export const BUILT_IN_DETECTORS: readonly Detector[] = [...SECRET_DETECTORS, ...PII_DETECTORS, ...THREAT_DETECTORS];
