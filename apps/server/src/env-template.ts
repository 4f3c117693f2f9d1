import { settingList } from "./config.js";

/** Settings a packaged server sets, because the built-in defaults suit a checkout, not a host. */
export const PACKAGED_SETTINGS: Readonly<Record<string, string>> = {
  JOBWORKER_LISTEN: "0.0.0.0:8443",
  JOBWORKER_TLS_CERT: "/etc/jobworker/server.crt",
  JOBWORKER_TLS_KEY: "/etc/jobworker/server.key",
  JOBWORKER_CLIENT_CA: "/etc/jobworker/ca.crt",
  JOBWORKER_STATE_DIR: "/var/lib/jobworker",
  JOBWORKER_CGROUP_PARENT: "delegated",
  JOBWORKER_METRICS_LISTEN: "127.0.0.1:9464",
  JOBWORKER_LOG_FORMAT: "json",
};

/**
 * The commented default config the packages install as /etc/jobworker/jobworker.env
 * (read by the systemd unit's EnvironmentFile=): every setting with what it does,
 * the packaged ones set, the rest commented out at their defaults. Generated from
 * the settings table, so it can never fall behind --help.
 */
export function envFileTemplate(): string {
  const lines = [
    "# jobworker-server settings, read by jobworker.service (EnvironmentFile=).",
    "# Each line is VARIABLE=value; a commented one shows the built-in default.",
    "# Flags on the ExecStart line would override these; `jobworker-server --help` lists them all.",
    "# After a change: systemctl restart jobworker (running jobs survive and are re-adopted).",
    "# Certificates are reloaded without a restart: systemctl reload jobworker, or just replace the files.",
    "",
  ];
  for (const setting of settingList()) {
    const packaged = PACKAGED_SETTINGS[setting.env];
    lines.push(`# --${setting.flag}: ${setting.help}`);
    lines.push(packaged !== undefined ? `${setting.env}=${packaged}` : `#${setting.env}=${setting.default}`);
    lines.push("");
  }
  return lines.join("\n");
}
