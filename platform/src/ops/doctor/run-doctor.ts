import { checkDatabase } from "./database-checks";
import { checkProviderKeys, checkRedis } from "./dependency-checks";
import type { CheckResult, DoctorContext } from "./doctor-check";
import { resolveSettings } from "./doctor-settings";
import { checkDiskHeadroom, checkNodeVersion, checkTenantDataDir } from "./environment-checks";
import { checkGateway, checkPlatformHealth, checkPorts, isLive, lookAtRunningSystem } from "./service-checks";
import { checkEventStreams } from "./stream-check";

export interface DoctorReport {
  /** Whether a platform or gateway answered (live checks ran), or only the configuration was checked. */
  live: boolean;
  checks: CheckResult[];
}

/** Every check, in the order an operator reads them: configuration, files, services, dependencies. */
export async function runDoctor(context: DoctorContext): Promise<DoctorReport> {
  const { settings, check: configuration } = resolveSettings(context);
  const system = await lookAtRunningSystem(context, settings);
  const groups = await Promise.all([
    Promise.resolve([checkNodeVersion(), configuration]),
    checkTenantDataDir(settings.tenantDataDir, system.gateway !== undefined).then((result) => [result]),
    checkDiskHeadroom("TENANT_DATA_DIR", settings.tenantDataDir).then((result) => [result]),
    settings.databaseUrl ? Promise.resolve([]) : checkDiskHeadroom("PGLITE_DATA_DIR", settings.pgliteDataDir).then((result) => [result]),
    checkPorts(settings, system),
    checkGateway(context, settings, system),
    Promise.resolve([checkPlatformHealth(settings, system)]),
    checkEventStreams(context, settings, system).then((result) => [result]),
    checkDatabase(context, settings, system),
    checkRedis(context, settings).then((result) => [result]),
    checkProviderKeys(context, settings),
  ]);
  return { live: isLive(system), checks: groups.flat() };
}
