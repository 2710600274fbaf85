import type { Detector } from "../types.ts";
import { genericSecretDetector } from "./generic-secret.ts";
import { providerDetector } from "./provider-detector.ts";
import { PROVIDER_FAMILIES } from "./provider-rules.ts";

const PROVIDER_DETECTORS = PROVIDER_FAMILIES.map(providerDetector);

/** One detector per provider family, then the generic `key = value` rule (which defers to them). */
export const SECRET_DETECTORS: Detector[] = [...PROVIDER_DETECTORS, genericSecretDetector(PROVIDER_DETECTORS)];
