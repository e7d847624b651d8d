using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remedies;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>
    /// Applies a finding's remedy (validated by the RemedyCatalog, run directly as a service inside one
    /// transaction), verifies it by diagnosing again with the same checks (and, for a tunnel that had a
    /// handshake, that it still has one), and rolls the whole transaction back when verification fails.
    /// </summary>
    public sealed class Repairer
    {
        private readonly INativeRunner _runner;
        private readonly Func<string, IList<Finding>> _diagnose;
        private readonly Action<string> _verbose;
        private readonly Action<string> _warn;
        private readonly CancellationToken _cancel;

        /// <summary>How long a peer repair waits for the fresh handshake that shows it worked.</summary>
        public TimeSpan HandshakeWait { get; set; } = TimeSpan.FromSeconds(30);

        /// <param name="diagnose">Takes a new snapshot of one interface and runs the checks on it (see <see cref="EngineDiagnosis"/>).</param>
        public Repairer(INativeRunner runner, Func<string, IList<Finding>> diagnose, Action<string> verbose = null, Action<string> warn = null, CancellationToken cancel = default(CancellationToken))
        {
            _runner = runner;
            _diagnose = diagnose ?? EngineDiagnosis(runner, verbose, cancel);
            _verbose = verbose ?? (_ => { });
            _warn = warn ?? (_ => { });
            _cancel = cancel;
        }

        /// <summary>Causes only the deep diagnosis finds (path-MTU probe, SYN capture): their verification runs it again.</summary>
        public static bool FoundOnlyDeep(string cause) => cause == nameof(Cause.MtuBlackhole) || cause == nameof(Cause.MssClampMissing);

        /// <summary>The verification diagnosis: a fresh read of the host and the same checks the first diagnosis ran.</summary>
        /// <param name="deep">Which interfaces were diagnosed with the path-MTU probe (and are verified with it again).</param>
        public static Func<string, IList<Finding>> EngineDiagnosis(INativeRunner runner, Action<string> verbose, CancellationToken cancel, Func<string, bool> deep = null)
            => iface =>
            {
                var r = Checks.HostDiagnosis.Run(runner,
                    new Snapshot.SnapshotRequest { Interfaces = new[] { iface }, SampleSeconds = 2, TraceSeconds = 4, Deep = deep?.Invoke(iface) ?? false },
                    null, verbose, null, cancel);
                return new Checks.SnapshotFindings(r.Snapshot, r.Findings);
            };

        /// <summary>
        /// Repairs the findings in order, each through <see cref="Repair(FindingRef)"/>: a finding the RemedyCatalog
        /// refuses yields its refusal, a second finding with the same fix is fixed once, and <paramref name="admit"/>
        /// (ShouldProcess, decided by the caller; null: all) is asked before each repair. The one loop of
        /// Repair-WgIssue here and of a repair sent to another host (<see cref="Remoting.RemoteEndpoint.RepairJson"/>).
        /// </summary>
        public IEnumerable<RepairResult> RepairAll(IEnumerable<FindingRef> findings, Func<FindingRef, RemedyPlan, bool> admit = null,
            Func<FindingRef, WgException, RepairResult> failed = null)
        {
            var done = new HashSet<string>();
            foreach (var f in findings)
            {
                var plan = RemedyCatalog.Plan(f, out var refusal);
                if (plan == null)
                {
                    _verbose($"{f.Interface} {f.Cause}: not repaired ({refusal}).");
                    yield return Repair(f);
                    continue;
                }
                // One repair per distinct action: two findings with the same fix are fixed once.
                if (!done.Add(plan.Display)) continue;
                // A repair that only a remediation policy allows (TunnelInputBlocked) is refused here, before ShouldProcess.
                if (plan.PolicyKey != null) { yield return Repair(f); continue; }
                if (admit != null && !admit(f, plan)) continue;
                RepairResult result;
                WgException error = null;
                try { result = Repair(f); }
                catch (WgException ex) when (failed != null) { result = null; error = ex; }
                if (error != null) result = failed(f, error);
                if (result != null) yield return result;
            }
        }

        /// <summary>True when the result is a refusal of a cause that has no automatic repair (said, not warned about).</summary>
        public static bool NeedsHuman(RepairResult r) => r?.Error != null && r.Error.StartsWith(NeedsHumanText, StringComparison.Ordinal);

        private const string NeedsHumanText = "Not repaired: this cause needs a human.";

        /// <summary>The command that fixes the finding (its remedy as a cmdlet call or command), or its Remediation text when it has none.</summary>
        public static string ActionFor(FindingRef f) => RemedyCatalog.Plan(f, out _)?.Display ?? f.Remediation;

        public RepairResult Repair(FindingRef f) => Repair(f, null);

        /// <param name="shouldProcess">Asked for every command of the remedy; null: run them (the caller already asked).</param>
        public RepairResult Repair(FindingRef f, Func<string, string, bool> shouldProcess) => Repair(f, shouldProcess, false);

        /// <param name="policyAllows">True when a remediation policy allowed this repair (a plan with a <see cref="RemedyPlan.PolicyKey"/> runs only then).</param>
        public RepairResult Repair(FindingRef f, Func<string, string, bool> shouldProcess, bool policyAllows)
        {
            var result = new RepairResult { FindingId = f.Id, Cause = f.Cause, Interface = f.Interface, Peer = f.Peer, Action = f.Remediation };
            var plan = RemedyCatalog.Plan(f, out var refusal);
            if (plan == null)
            {
                result.Error = f.CanRepair && RemedyCatalog.KindFor(f.Cause) != null
                    ? "Not repaired: the finding was refused: " + refusal
                    : NeedsHumanText + " " + (f.Remediation ?? "");
                return result;
            }
            result.Action = plan.Display;
            if (plan.PolicyKey != null && !policyAllows)
            {
                result.Error = $"Not repaired: the {f.Cause} repair runs only when a remediation policy allows it ({plan.PolicyKey}, Invoke-WgRemediation). {f.Cause} is reported; what the peers may reach on this host is a policy decision.";
                return result;
            }
            Privilege.Demand("Repairing " + f.Cause);

            var before = _diagnose(f.Interface);
            var healthyBefore = HealthyPeers(f.Interface);
            var errorsBefore = new HashSet<string>(before.Where(x => x.Severity == "Error").Select(Key));
            result.Before = Describe(before.Where(x => Matches(x, f)).DefaultIfEmpty(null).First(), f);
            var started = DateTime.UtcNow;

            var tx = new Transaction(_runner, _verbose);
            var ctx = new RemedyContext(_runner, tx, shouldProcess ?? ((_, __) => true), _verbose, _warn);
            List<ChangeRecord> changes;
            try
            {
                _verbose("Running: " + plan.Display);
                changes = plan.Execute(ctx).ToList();
            }
            catch (WgException ex)
            {
                // A failing step has already rolled back every change of this repair (its message says how);
                // a failure between steps rolls back here.
                var rb = tx.HasChanges ? tx.Rollback() : null;
                result.Error = "The repair failed: " + ex.Message + (rb != null ? " The changes made were " + rb + "." : "");
                return result;
            }
            catch (RuntimeException ex)
            {
                var rb = tx.Rollback();
                result.Error = "The repair failed: " + ex.Message + (rb.Items.Count > 0 ? " The changes made were " + rb + "." : "");
                return result;
            }
            result.Changes = changes.ToArray();
            result.Changed = changes.Any(c => c.Changed);
            result.UndoCommands = changes.Where(c => c.Changed).Reverse().SelectMany(c => c.UndoCommands).ToArray();

            if (f.Peer != null && plan.AwaitsHandshake) WaitForHandshake(f.Interface, f.Peer, started);
            var after = _diagnose(f.Interface);
            var problems = new List<string>();
            if (plan.Verify != null)
            {
                // a cause this host's checks cannot see (both ends together show it): read the change back from the new snapshot
                var snapshot = (after as Checks.SnapshotFindings)?.Snapshot;
                var readBack = snapshot == null ? "no new snapshot to read the change back from" : plan.Verify(snapshot);
                if (readBack != null) problems.Add(readBack);
            }
            var still = after.FirstOrDefault(x => Matches(x, f));
            if (still != null) problems.Add($"the diagnosis still finds {f.Cause}: {still.Summary}");
            foreach (var x in after.Where(x => x.Severity == "Error" && !errorsBefore.Contains(Key(x)) && !Matches(x, f)))
                problems.Add($"a new error appeared: {x.Cause}: {x.Summary}");
            var healthyAfter = HealthyPeers(f.Interface);
            foreach (var p in healthyBefore.Where(p => !healthyAfter.Contains(p)))
                problems.Add($"peer {p} had a working session before the change and has none now");
            result.After = problems.Count == 0 ? (f.Cause + " no longer found") : string.Join("; ", problems);

            if (problems.Count == 0)
            {
                result.Verified = true;
                return result;
            }
            result.Verified = false;
            if (!result.Changed)
            {
                result.Error = "Nothing was changed, and the problem remains: " + result.After;
                return result;
            }
            var rollback = tx.Rollback();
            result.RolledBack = rollback.Complete;
            result.RollbackRefused = rollback.Items.Where(i => i.Outcome == UndoOutcome.Refused).Select(i => i.Message).ToArray();
            if (rollback.Complete) result.UndoCommands = new string[0];
            result.Error = "Verification failed (" + result.After + "); the change was " +
                           (rollback.Complete ? "rolled back." : rollback + (rollback.AnyRefused ? " (rollback refused where the file changed since the repair)." : "."));
            return result;
        }

        private HashSet<string> HealthyPeers(string iface)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in new WgStateReader(_runner).Read(new[] { iface }, _ => { }))
                foreach (var p in d.Peers)
                    if (p.HandshakeAge.HasValue && p.HandshakeAge.Value <= HandshakeEvaluator.RejectAfterTime) set.Add(p.PublicKey);
            return set;
        }

        private void WaitForHandshake(string iface, string peer, DateTime since)
        {
            var deadline = DateTime.UtcNow + HandshakeWait;
            while (DateTime.UtcNow < deadline && !_cancel.IsCancellationRequested)
            {
                var p = new WgStateReader(_runner).Read(new[] { iface }, _ => { }).SelectMany(d => d.Peers).FirstOrDefault(x => x.PublicKey == peer);
                if (p?.LatestHandshake != null && p.LatestHandshake.Value >= since.AddSeconds(-1)) return;
                _cancel.WaitHandle.WaitOne(1000);
            }
        }

        private static bool Matches(Finding x, FindingRef f)
            => x.Cause == f.Cause && (f.Peer == null || x.Peer == f.Peer) && Checks.Diagnoser.Rank(x.Severity) >= Checks.Diagnoser.Rank(f.Severity ?? "Info");

        private static string Key(Finding x) => x.Cause + "|" + x.Peer;

        private static string Describe(Finding x, FindingRef f)
            => x == null ? $"{f.Cause} (as found before; not seen again just before the repair)" : $"{x.Cause}: {x.Summary}";
    }

    /// <summary>The parts of a finding a repair needs, read from a live or a deserialized (remoting) Finding.</summary>
    public sealed class FindingRef
    {
        public string Id { get; set; }
        public string Severity { get; set; }
        public string Cause { get; set; }
        public string Interface { get; set; }
        public string Peer { get; set; }
        public string Remediation { get; set; }
        public bool CanRepair { get; set; }
        public string[] RepairData { get; set; } = new string[0];

        public string Data(string key)
        {
            foreach (var kv in RepairData ?? new string[0])
            {
                int eq = kv.IndexOf('=');
                if (eq > 0 && string.Equals(kv.Substring(0, eq), key, StringComparison.OrdinalIgnoreCase)) return kv.Substring(eq + 1);
            }
            return null;
        }

        public static FindingRef From(Finding f)
            => new FindingRef { Id = f.Id, Severity = f.Severity, Cause = f.Cause, Interface = f.Interface, Peer = f.Peer, Remediation = f.Remediation, CanRepair = f.CanRepair, RepairData = f.RepairData };

        public static FindingRef From(PSObject o)
        {
            if (o == null) return null;
            if (o.BaseObject is Finding f) return From(f);
            string S(string n) => o.Properties[n]?.Value?.ToString();
            if (S("Cause") == null || S("Interface") == null) return null;
            bool.TryParse(S("CanRepair"), out var can);
            var data = o.Properties["RepairData"]?.Value;
            var list = new List<string>();
            if (data is PSObject pd) data = pd.BaseObject;
            if (data is System.Collections.IEnumerable e && !(data is string)) foreach (var x in e) list.Add(x?.ToString());
            return new FindingRef { Id = S("Id"), Severity = S("Severity"), Cause = S("Cause"), Interface = S("Interface"), Peer = S("Peer"), Remediation = S("Remediation"), CanRepair = can, RepairData = list.ToArray() };
        }
    }

    /// <summary>
    /// The remediation of a finding as the cmdlet call it is equivalent to (shown in Remediation, -WhatIf and
    /// reports), from the RemedyCatalog: built from the finding's Cause and validated data, never from its text.
    /// Null when the finding has no valid remedy, or when its remedy is not a cmdlet (InterfaceDown).
    /// </summary>
    public sealed class RemediationCall
    {
        private RemediationCall(string text) { _text = text; }
        private readonly string _text;

        public static RemediationCall For(FindingRef f)
        {
            var plan = RemedyCatalog.Plan(f, out _);
            if (plan == null || plan.Kind == Remediation.RepairKind.Link) return null;
            return new RemediationCall(plan.Display);
        }

        public override string ToString() => _text;
    }
}
