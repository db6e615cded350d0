import { PeprModule } from "pepr";
// cfg loads the module's configuration from the `pepr` block of package.json
import cfg from "./package.json";
import { SettingsAdmission } from "./capabilities/settings-admission";
import { WorkloadAdmission } from "./capabilities/workload-admission";
import { CompanionSync } from "./capabilities/companion-sync";
import { normalizeParsedBodies, peprExpress } from "./capabilities/admission-envelope";

// Before the module is constructed: Pepr's controller takes its body parser from express then.
normalizeParsedBodies(peprExpress());

new PeprModule(cfg, [WorkloadAdmission, SettingsAdmission, CompanionSync]);
