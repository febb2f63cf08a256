export { classifyAddress, isIpLiteral, type AddressVerdict } from "./address-class";
export { compilePolicy, outboundPolicyFromEnv, PUBLIC_ONLY, type CompiledPolicy, type OutboundPolicy } from "./outbound-policy";
export { assertPublicUrl, createGuardedFetch, outboundBlocked, type GuardedFetch, type GuardOptions, type ResolvedAddress, type Resolver } from "./guarded-fetch";
