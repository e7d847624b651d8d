using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Firewall
{
    /// <summary>Opens WireGuard's UDP port in the host firewall: the logic of Add-WgFirewallRule, also used by Repair-WgIssue.</summary>
    public sealed class FirewallRepair
    {
        private readonly INativeRunner _runner;
        private readonly Action<string> _verbose;
        private readonly Action<string> _warn;

        public FirewallRepair(INativeRunner runner, Action<string> verbose = null, Action<string> warn = null)
        {
            _runner = runner;
            _verbose = verbose ?? (_ => { });
            _warn = warn ?? (_ => { });
        }

        /// <summary>
        /// Allows inbound UDP on the query's port. Every command is offered to <paramref name="shouldProcess"/>
        /// (command line, action) before any runs; returns one record per backend looked at, with undo commands.
        /// </summary>
        public List<ChangeRecord> Allow(FirewallQuery q, string backend, Func<string, string, bool> shouldProcess)
        {
            var records = new List<ChangeRecord>();
            var inspector = new FirewallInspector(_runner);
            var snaps = inspector.ReadAll(q.Underlay);
            var before = snaps.Where(s => s.Active || s.Name == backend).Select(s => FirewallEvaluator.Evaluate(s, q)).ToList();
            var plans = FirewallRulePlanner.Plan(snaps, before, q.Port, backend, null, _runner.IsAvailable);
            var action = $"Allow inbound UDP {q.Port}" + (q.Interface != null ? $" ({q.Interface})" : "");
            if (plans.Count == 0)
            {
                var rec = ChangeTransaction.Unchanged("host firewall", action, "Allowed: no active host firewall", new[] { FirewallEvaluator.UpstreamNote });
                _verbose(rec.ToString());
                records.Add(rec);
                return records;
            }
            foreach (var plan in plans)
            {
                var state = Describe(plan.Before);
                if (plan.NothingToDo)
                {
                    var rec = ChangeTransaction.Unchanged(plan.Target, action, state, plan.Before?.Verdict == FirewallVerdict.Allowed ? new[] { "Already allowed: nothing was changed." } : null);
                    _verbose(rec.ToString());
                    records.Add(rec);
                    continue;
                }
                // Ask for every command before running any, so a "no" leaves nothing half-done.
                bool all = true;
                foreach (var step in plan.Steps)
                    if (!shouldProcess(step.Command.CommandLine, action)) all = false;
                if (!all) continue;

                var tx = new ChangeTransaction(_runner, action + " in " + plan.Backend);
                foreach (var step in plan.Steps) tx.Apply(step.Command, step.Undo);

                var afterSnap = snaps.First(s => s.Name == plan.Backend);
                afterSnap = Reread(inspector, afterSnap, q);
                var after = FirewallEvaluator.Evaluate(afterSnap, q);
                var record = tx.ToRecord(plan.Target, action, state, Describe(after), plan.Notes);
                foreach (var n in plan.Notes.Where(n => n.Contains("only"))) _warn(n);
                if (after.Verdict != FirewallVerdict.Allowed)
                    _warn($"{plan.Backend} still does not allow UDP {q.Port} after the change: {after.DecidingRule}.");
                records.Add(record);
            }
            return records;
        }

        private static BackendSnapshot Reread(FirewallInspector inspector, BackendSnapshot snap, FirewallQuery q)
        {
            switch (snap.Name)
            {
                case "nftables": return inspector.ReadNft();
                case "ufw": return inspector.ReadUfw();
                case "firewalld": return inspector.ReadFirewalld(q.Underlay);
                default:
                    var family = snap.Iptables.IsIPv6 ? "ip6tables" : "iptables";
                    var flavour = snap.Name.EndsWith("-nft") ? "nft" : "legacy";
                    var save = snap.Tool == family ? family + "-save" : snap.Tool + "-save";
                    return inspector.ReadIptables(family, flavour, save, snap.Tool);
            }
        }

        private static string Describe(FirewallStatus s)
            => s == null ? "unknown" : $"{s.Verdict}: {s.DecidingRule}";
    }
}
