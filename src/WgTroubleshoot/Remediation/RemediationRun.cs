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
        }

        /// <summary>Which policy repair kind allows a cause's repair; null when the policy has no say (no repair).</summary>
        public static RepairKind? KindFor(string cause)
        {
            switch (cause)
            {
                case nameof(Cause.FirewallBlocksPort):
                case nameof(Cause.TcpOnlyFirewallRule): return RepairKind.Firewall;
                case nameof(Cause.MtuBlackhole): return RepairKind.Mtu;
                case nameof(Cause.ForwardingDisabled):
                case nameof(Cause.ForwardPathBlocked): return RepairKind.Forwarding;
                case nameof(Cause.NatMissing): return RepairKind.Nat;
                case nameof(Cause.StaleEndpoint): return RepairKind.Endpoint;
                default: return null;
            }
        }

        public RemediationReport Run(RemediationPolicy policy, bool whatIf)
        {
            var report = new RemediationReport { Policy = policy.Path, Host = Environment.MachineName, StartedUtc = DateTime.UtcNow, WhatIf = whatIf };
            var state = RepairHistory.Load(policy.StateFile);
            var results = new List<RemediationInterfaceResult>();
            int worst = RemediationExitCode.Healthy;
            foreach (var ip in policy.Interfaces)
            {
                var r = new RemediationInterfaceResult { Interface = ip.Interface };
                var needs = new List<string>();
                var repairs = new List<RepairResult>();
                var missing = new List<string>();
                var findings = Checks.HostDiagnosis.Run(_runner, new Snapshot.SnapshotRequest { Interfaces = new[] { ip.Interface } }, ex => missing.Add(ex.Message), _verbose).Findings;
                findings.AddRange(PolicyFindings(ip, findings));
                r.Findings = findings.ToArray();
                foreach (var m in missing) needs.Add(m);

                var done = new HashSet<string>();
                foreach (var f in findings.Where(x => Checks.Diagnoser.Rank(x.Severity) >= (int)Severity.Warning))
                {
                    var kind = KindFor(f.Cause);
                    var fref = FindingRef.From(f);
                    var call = RemediationCall.For(fref);
                    if (!f.CanRepair || kind == null || call == null) { needs.Add($"{f.Cause}: {f.Summary} ({f.Remediation})"); continue; }
                    if (!ip.Allows(kind.Value)) { needs.Add($"{f.Cause}: {f.Summary} (the policy does not allow {kind} repairs)"); continue; }
                    if (!done.Add(call.ToString())) continue;
                    if (state.CountSince(ip.Interface, DateTime.UtcNow.AddHours(-1)) >= ip.MaxRepairsPerHour)
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (already {ip.MaxRepairsPerHour} repairs in the last hour: the limit of the policy)");
                        continue;
                    }
                    if (!_shouldProcess($"{ip.Interface}: {f.Cause}", call.ToString()))
                    {
                        needs.Add($"{f.Cause}: {f.Summary} (not repaired{(whatIf ? " because of -WhatIf" : "")}: {call})");
                        continue;
                    }
                    var result = _repairer.Repair(fref);
                    repairs.Add(result);
                    if (result.Changed) state.Add(ip.Interface, f.Cause, DateTime.UtcNow);
                    if (!result.Verified) needs.Add($"{f.Cause}: repair not verified: {result.Error ?? result.After}");
                }
                r.Repairs = repairs.ToArray();
                r.NeedsHuman = needs.ToArray();
                int code = needs.Count > 0 ? RemediationExitCode.NeedsHuman
                    : repairs.Any(x => x.Changed) ? RemediationExitCode.Repaired : RemediationExitCode.Healthy;
                worst = Worse(worst, code);
                results.Add(r);
            }
            if (!whatIf) state.Save(policy.StateFile);
            report.Interfaces = results.ToArray();
            report.ExitCode = worst;
            report.Outcome = RemediationExitCode.Name(worst);
            report.FinishedUtc = DateTime.UtcNow;
            return report;
        }

        /// <summary>The desired state the policy states beyond the diagnosis: a fixed MTU.</summary>
        private IEnumerable<Finding> PolicyFindings(InterfacePolicy ip, List<Finding> found)
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

    /// <summary>The repairs made per interface, kept in the policy's state file (JSON) for the hourly limit.</summary>
    internal sealed class RepairHistory
    {
        private readonly List<Tuple<string, string, DateTime>> _entries = new List<Tuple<string, string, DateTime>>();

        public static RepairHistory Load(string path)
        {
            var h = new RepairHistory();
            if (string.IsNullOrEmpty(path) || !File.Exists(path)) return h;
            try
            {
                var root = DependencyLoader.Engine.ParseYaml(File.ReadAllText(path));
                var repairs = root?.Entries.FirstOrDefault(e => e.Key.Value == "repairs").Value;
                if (repairs == null) return h;
                foreach (var item in repairs.Items)
                {
                    string V(string k) => item.Entries.FirstOrDefault(e => e.Key.Value == k).Value?.Value;
                    if (DateTime.TryParse(V("time"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                        h._entries.Add(Tuple.Create(V("interface"), V("cause"), t));
                }
            }
            catch (Exception ex) when (ex is YamlSyntaxException || ex is IOException)
            {
                // A damaged history only loses the hourly count; the next run writes a good one.
            }
            return h;
        }

        public int CountSince(string iface, DateTime since) => _entries.Count(e => e.Item1 == iface && e.Item3 >= since);

        public void Add(string iface, string cause, DateTime when) => _entries.Add(Tuple.Create(iface, cause, when));

        public void Save(string path)
        {
            if (string.IsNullOrEmpty(path)) return;
            var keep = _entries.Where(e => e.Item3 >= DateTime.UtcNow.AddDays(-1)).Select(e => (object)new Dictionary<string, object>
            {
                ["interface"] = e.Item1, ["cause"] = e.Item2, ["time"] = e.Item3.ToString("o", CultureInfo.InvariantCulture),
            }).ToList();
            Changes.AtomicFile.Write(path, DependencyLoader.Engine.Serialize(new Dictionary<string, object> { ["repairs"] = keep }, true), Changes.AtomicFile.Private, keepBackup: false);
        }
    }
}
