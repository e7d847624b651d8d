using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Loading;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Remediation
{
    /// <summary>The exit codes of a remediation run, for schedulers (documented in about_WgTroubleshoot).</summary>
    public static class RemediationExitCode
    {
        /// <summary>Nothing needed repairing.</summary>
        public const int Healthy = 0;
        /// <summary>The run itself failed (a malformed policy, no privileges); nothing was changed.</summary>
        public const int Error = 1;
        /// <summary>Everything found was repaired and verified.</summary>
        public const int Repaired = 2;
        /// <summary>Something is wrong that the policy does not allow, or the module cannot, repair: a human is needed.</summary>
        public const int NeedsHuman = 3;

        public static string Name(int code)
            => code == Healthy ? "Healthy" : code == Repaired ? "Repaired" : code == NeedsHuman ? "NeedsHuman" : "Error";
    }

    /// <summary>What a remediation run found and did on one interface.</summary>
    public sealed class RemediationInterfaceResult
    {
        public string Interface { get; set; }
        public Finding[] Findings { get; set; } = new Finding[0];
        public RepairResult[] Repairs { get; set; } = new RepairResult[0];
        /// <summary>Problems left for a human, in words (not repairable, not allowed by the policy, over the hourly limit, not verified).</summary>
        public string[] NeedsHuman { get; set; } = new string[0];
    }

    /// <summary>The outcome of Invoke-WgRemediation; also what the report file holds.</summary>
    public sealed class RemediationReport
    {
        public string Policy { get; set; }
        public string Host { get; set; }
        public DateTime StartedUtc { get; set; }
        public DateTime FinishedUtc { get; set; }
        /// <summary>Healthy, Repaired, NeedsHuman or Error.</summary>
        public string Outcome { get; set; }
        public int ExitCode { get; set; }
        public string Error { get; set; }
        public bool WhatIf { get; set; }
        public RemediationInterfaceResult[] Interfaces { get; set; } = new RemediationInterfaceResult[0];
        public string ReportPath { get; set; }

        public override string ToString() => $"{Outcome} (exit code {ExitCode})";
    }

    /// <summary>
    /// One unattended remediation run: diagnose each interface of the policy, repair what the policy allows
    /// (within its hourly limit, kept in the state file), verify, and report. Safe to run every few minutes.
    /// </summary>
    public sealed class RemediationRun
    {
        private readonly INativeRunner _runner;
        private readonly Repairer _repairer;
        private readonly Func<string, string, bool> _shouldProcess;
        private readonly Action<string> _verbose;

        public RemediationRun(INativeRunner runner, Repairer repairer, Func<string, string, bool> shouldProcess, Action<string> verbose)
        {
            _runner = runner;
            _repairer = repairer;
            _shouldProcess = shouldProcess;
            _verbose = verbose ?? (_ => { });
            Diagnose = DefaultDiagnose;
        }

        /// <summary>Which policy repair kind allows a cause's repair (from the RemedyCatalog); null when the cause has no repair.</summary>
        public static RepairKind? KindFor(string cause) => Remedies.RemedyCatalog.KindFor(cause);

        /// <summary>Where the run's warnings go (a state file with entries in the future, no stateFile).</summary>
        public Action<string> Warn { get; set; }

        public RemediationReport Run(RemediationPolicy policy, bool whatIf)
        {
            // the hourly limit: the run lock, the history, and a state file proven writable before any repair
            using (var ledger = RepairLedger.Open(policy, whatIf, Warn ?? _verbose))
                return Run(policy, whatIf, ledger);
        }

        private RemediationReport Run(RemediationPolicy policy, bool whatIf, RepairLedger state)
        {
            var report = new RemediationReport { Policy = policy.Path, Host = Environment.MachineName, StartedUtc = DateTime.UtcNow, WhatIf = whatIf };
            var results = new List<RemediationInterfaceResult>();
            int worst = RemediationExitCode.Healthy;
            foreach (var ip in policy.Interfaces)
            {
                var r = new RemediationInterfaceResult { Interface = ip.Interface };
                var needs = new List<string>();
                var repairs = new List<RepairResult>();
                var missing = new List<string>();
                // mtu: auto: the MTU follows the path MTU, so the run measures it (the deep diagnosis).
                var findings = Diagnose(ip, ex => missing.Add(ex.Message));
                findings.AddRange(PolicyFindings(ip, findings, needs));
                r.Findings = findings.ToArray();
                foreach (var m in missing) needs.Add(m);
                // A check that could not run leaves the state unknown: never "healthy".
                foreach (var f in findings.Where(x => x.Cause == "CheckNotRun"))
                    needs.Add($"CheckNotRun: {f.Summary} (a check could not run, so the interface is not known to be healthy)");

                var done = new HashSet<string>();
                foreach (var f in findings.Where(x => Checks.Diagnoser.Rank(x.Severity) >= (int)Severity.Warning && x.Cause != "CheckNotRun"))
                {
                    // What the policy says the host must look like wins over the diagnosis' default expectations.
                    if (ip.Forwarding == false && f.Cause == nameof(Cause.ForwardingDisabled)) { _verbose($"{f.Cause}: as the policy wants (forwarding: false)."); continue; }
                    if (ip.Nat == false && f.Cause == nameof(Cause.NatMissing)) { _verbose($"{f.Cause}: as the policy wants (nat: false)."); continue; }
                    var fref = FindingRef.From(f);
                    if (ip.Nat.HasValue && (f.Cause == nameof(Cause.ForwardingDisabled)))
                        fref.RepairData = fref.RepairData.Where(d => !d.StartsWith("Nat=", StringComparison.Ordinal)).Concat(new[] { "Nat=" + (ip.Nat.Value ? "true" : "false") }).ToArray();
                    var call = Remedies.RemedyCatalog.Plan(fref, out var refusal);
                    if (call == null) { needs.Add($"{f.Cause}: {f.Summary} ({(f.CanRepair && KindFor(f.Cause) != null ? "refused: " + refusal : f.Remediation)})"); continue; }
                    var kind = call.Kind;
                    bool allowed = call.Unattended && ip.Allows(kind);
                    // reresolveEndpoints: true is the re-resolving repair itself; false forbids it whatever allowedRepairs says.
                    if (kind == RepairKind.Endpoint && ip.ReresolveEndpoints.HasValue) allowed = ip.ReresolveEndpoints.Value && ip.MaxRepairsPerHour > 0;
                    // A repair that only its own policy key allows (TunnelInputBlocked: firewall: { acceptTunnelInput: true }).
                    bool byKey = call.PolicyKey != null;
                    if (byKey) allowed = ip.AcceptTunnelInput == true && ip.MaxRepairsPerHour > 0;
                    if (!allowed)
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (" + (byKey ? $"reported only: the policy does not say {call.PolicyKey})"
                            : kind == RepairKind.Endpoint && ip.ReresolveEndpoints == false
                            ? "the policy does not re-resolve endpoints: reresolveEndpoints: false)" : $"the policy does not allow {kind} repairs)"));
                        continue;
                    }
                    if (!done.Add(call.Display)) continue;
                    if (state.CountSince(ip.Interface, DateTime.UtcNow.AddHours(-1)) >= ip.MaxRepairsPerHour)
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (already {ip.MaxRepairsPerHour} repairs in the last hour: the limit of the policy)");
                        continue;
                    }
                    if (!_shouldProcess($"{ip.Interface}: {f.Cause}", call.Display))
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (not repaired{(whatIf ? " because of -WhatIf" : "")}: {call.Display})");
                        continue;
                    }
                    if (!state.TryReserve(ip.Interface, f.Cause, out var unrecorded))
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (not repaired: {unrecorded})");
                        continue;
                    }
                    RepairResult result = null;
                    try { result = _repairer.Repair(fref, null, policyAllows: true); }
                    finally { state.Complete(result == null || result.Changed); } // a repair that threw stays counted
                    repairs.Add(result);
                    if (!result.Verified) needs.Add($"{f.Cause}: repair not verified: {result.Error ?? result.After}");
                }
                r.Repairs = repairs.ToArray();
                r.NeedsHuman = needs.ToArray();
                int code = needs.Count > 0 ? RemediationExitCode.NeedsHuman
                    : repairs.Any(x => x.Changed) ? RemediationExitCode.Repaired : RemediationExitCode.Healthy;
                worst = Worse(worst, code);
                results.Add(r);
            }
            report.Interfaces = results.ToArray();
            report.ExitCode = worst;
            report.Outcome = RemediationExitCode.Name(worst);
            report.FinishedUtc = DateTime.UtcNow;
            return report;
        }

        /// <summary>The diagnosis of one interface; replaceable, so the run can be pointed at another diagnosis core.</summary>
        public Func<InterfacePolicy, Action<WgException>, List<Finding>> Diagnose { get; set; }

        private List<Finding> DefaultDiagnose(InterfacePolicy ip, Action<WgException> notFound)
            => Checks.HostDiagnosis.Run(_runner, new Snapshot.SnapshotRequest { Interfaces = new[] { ip.Interface }, Deep = ip.MtuAuto }, notFound, _verbose).Findings;

        /// <summary>
        /// The desired state the policy states beyond the diagnosis: a fixed MTU, forwarding on or off, the
        /// firewall port, and the handshake age limit. Findings it can repair are returned; what only a human
        /// can settle is added to <paramref name="needs"/>.
        /// </summary>
        private IEnumerable<Finding> PolicyFindings(InterfacePolicy ip, List<Finding> found, List<string> needs)
        {
            var list = new List<Finding>(MtuFindings(ip, found));
            State.WgDevice dev = null;
            try { dev = new State.WgStateReader(_runner).Read(new[] { ip.Interface }, _ => { }).FirstOrDefault(); }
            catch (WgException ex) { needs.Add($"The policy checks of {ip.Interface} could not run: {ex.Message}"); }
            if (dev != null)
            {
                if (ip.FirewallPort.HasValue && dev.Interface.ListenPort != ip.FirewallPort)
                    needs.Add($"{ip.Interface} listens on UDP {dev.Interface.ListenPort?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}, but the policy's firewallPort is {ip.FirewallPort.Value}: the port the firewall lets in and the port WireGuard uses differ.");
                foreach (var p in dev.Peers.Where(p => p.HandshakeAge.HasValue && p.HandshakeAge.Value.TotalSeconds > ip.MaxHandshakeAgeSeconds))
                    if (!found.Any(x => x.Peer == p.PublicKey && Checks.Diagnoser.Rank(x.Severity) >= (int)Severity.Warning))
                        needs.Add($"peer {p.Name ?? p.PublicKey}: the latest handshake is {(int)p.HandshakeAge.Value.TotalSeconds} s old, older than the policy's maxHandshakeAgeSeconds ({ip.MaxHandshakeAgeSeconds}): it counts as down.");
            }
            if (ip.Forwarding.HasValue)
            {
                var sysctl = new Forwarding.SysctlSettings();
                var on = Forwarding.SysctlSettings.IsOn(sysctl.ReadRuntime(Forwarding.ForwardingRepair.IPv4Key));
                if (ip.Forwarding.Value && !on && !found.Any(f => f.Cause == nameof(Cause.ForwardingDisabled)))
                    list.Add(new Finding
                    {
                        Id = "WGD620", Severity = "Warning", Cause = nameof(Cause.ForwardingDisabled), Interface = ip.Interface, Role = "Host",
                        Summary = "IPv4 forwarding is off; the policy wants it on (forwarding: true).",
                        Evidence = new[] { "net.ipv4.ip_forward = 0" }, CanRepair = true,
                        RepairData = new[] { "Interface=" + ip.Interface, "Nat=" + (ip.Nat == true ? "true" : "false") },
                        Remediation = $"Enable-WgForwarding -Interface {ip.Interface}" + (ip.Nat == true ? " -Nat" : ""),
                    });
                if (!ip.Forwarding.Value && on)
                    needs.Add($"IPv4 forwarding is on; the policy wants it off (forwarding: false). Turning it off is not done unattended: Disable-WgForwarding.");
            }
            return list;
        }

        private IEnumerable<Finding> MtuFindings(InterfacePolicy ip, List<Finding> found)
        {
            if (ip.Mtu.HasValue && !found.Any(f => f.Cause == nameof(Cause.MtuBlackhole)))
            {
                var dev = new State.WgStateReader(_runner).Read(new[] { ip.Interface }, _ => { });
                new State.WgStateReader(_runner).AddLinkDetails(dev);
                var mtu = dev.FirstOrDefault()?.Interface.Mtu;
                if (mtu.HasValue && mtu.Value != ip.Mtu.Value)
                    yield return new Finding
                    {
                        Id = "WGD610", Severity = "Warning", Cause = nameof(Cause.MtuBlackhole), Interface = ip.Interface, Role = "Host",
                        Summary = $"The MTU is {mtu.Value}; the policy wants {ip.Mtu.Value}.",
                        Evidence = new[] { $"ip link: mtu {mtu.Value}" }, CanRepair = true,
                        RepairData = new[] { "Interface=" + ip.Interface, "Mtu=" + ip.Mtu.Value.ToString(CultureInfo.InvariantCulture) },
                        Remediation = $"Set-WgMtu -Interface {ip.Interface} -Mtu {ip.Mtu.Value} -Scope Both",
                    };
            }
        }

        private static int Worse(int a, int b)
        {
            int Rank(int c) => c == RemediationExitCode.Error ? 3 : c == RemediationExitCode.NeedsHuman ? 2 : c == RemediationExitCode.Repaired ? 1 : 0;
            return Rank(a) >= Rank(b) ? a : b;
        }

        /// <summary>The report as a tree of dictionaries and lists, for YAML or JSON.</summary>
        public static Dictionary<string, object> ToTree(RemediationReport r)
        {
            object F(Finding f) => new Dictionary<string, object>
            {
                ["id"] = f.Id, ["severity"] = f.Severity, ["cause"] = f.Cause, ["peer"] = f.Peer, ["summary"] = f.Summary,
                ["evidence"] = f.Evidence.ToList(), ["remediation"] = f.Remediation, ["canRepair"] = f.CanRepair,
            };
            object R(RepairResult x) => new Dictionary<string, object>
            {
                ["cause"] = x.Cause, ["action"] = x.Action, ["changed"] = x.Changed, ["verified"] = x.Verified, ["rolledBack"] = x.RolledBack,
                ["before"] = x.Before, ["after"] = x.After, ["error"] = x.Error, ["undoCommands"] = x.UndoCommands.ToList(),
            };
            return new Dictionary<string, object>
            {
                ["policy"] = r.Policy, ["host"] = r.Host,
                ["started"] = r.StartedUtc.ToString("o", CultureInfo.InvariantCulture), ["finished"] = r.FinishedUtc.ToString("o", CultureInfo.InvariantCulture),
                ["outcome"] = r.Outcome, ["exitCode"] = r.ExitCode, ["error"] = r.Error, ["whatIf"] = r.WhatIf,
                ["interfaces"] = r.Interfaces.Select(i => (object)new Dictionary<string, object>
                {
                    ["interface"] = i.Interface, ["findings"] = i.Findings.Select(F).ToList(), ["repairs"] = i.Repairs.Select(R).ToList(), ["needsHuman"] = i.NeedsHuman.ToList(),
                }).ToList(),
            };
        }

        /// <summary>Writes the report atomically (temporary file, then rename), mode 0600.</summary>
        public static void WriteReport(RemediationReport r, string path, bool json)
        {
            var text = DependencyLoader.Engine.Serialize(ToTree(r), json);
            Changes.AtomicFile.Write(path, text, Changes.AtomicFile.Private, keepBackup: false);
        }
    }
}
