import type { Detector } from "../types.ts";
import { creditCard } from "./credit-card.ts";
import { cryptoWallet } from "./crypto-wallet.ts";
import { email } from "./email.ts";
import { iban } from "./iban.ts";
import { ipAddress } from "./ip-address.ts";
import { phone } from "./phone.ts";
import { usAddress } from "./us-address.ts";
import { usSsn } from "./us-ssn.ts";

/** Personal data: checksum-validated first, then the pattern-and-context detectors. */
export const PII_DETECTORS: Detector[] = [creditCard, iban, cryptoWallet, usSsn, email, phone, ipAddress, usAddress];
