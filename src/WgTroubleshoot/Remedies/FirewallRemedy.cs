using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.Remedies
{
    /// <summary>
    /// Opens WireGuard's UDP port in the host firewall (Add-WgFirewallRule, and the repair of FirewallBlocksPort
    /// and TcpOnlyFirewallRule). Every backend of one repair is changed inside the one transaction: when a later
    /// backend fails, the earlier ones are rolled back with it.
    /// </summary>
    public static class FirewallRemedy
    {
        /// <summary>
        /// Allows inbound UDP on the ports of the interface (or <paramref name="port"/>). Every command of every
        /// backend is offered to ShouldProcess (command line, action) before any runs; returns one record per backend looked at.
        /// </summary>
        public static List<ChangeRecord> Allow(RemedyContext ctx, string iface, int? port, string backend)
        {
            var records = new List<ChangeRecord>();
            var queries = new FirewallTargets(ctx.Runner).Resolve(iface, port);
            foreach (var q in queries) records.AddRange(Allow(ctx, q, backend));
            return records;
        }

        public static List<ChangeRecord> Allow(RemedyContext ctx, FirewallQuery q, string backend)
        {
            var records = new List<ChangeRecord>();
            var inspector = new FirewallInspector(ctx.Runner);
            var snaps = inspector.ReadAll(q.Underlay);
            var before = snaps.Where(s => s.Active || s.Name == backend).Select(s => FirewallEvaluator.Evaluate(s, q)).ToList();
            var plans = FirewallRulePlanner.Plan(snaps, before, q.Port, backend, null, ctx.Runner.IsAvailable);
            var action = $"Allow inbound UDP {q.Port}" + (q.Interface != null ? $" ({q.Interface})" : "");
            if (plans.Count == 0)
            {
                var rec = Transaction.Unchanged("host firewall", action, "Allowed: no active host firewall", new[] { FirewallEvaluator.UpstreamNote });
                ctx.Verbose(rec.ToString());
                records.Add(rec);
                return records;
            }
            // Ask for every command of every backend before running any, so a "no" leaves nothing half-done.
            var todo = new List<FirewallPlan>();
            foreach (var plan in plans)
            {
                if (plan.NothingToDo)
                {
                    var rec = Transaction.Unchanged(plan.Target, action, Describe(plan.Before), plan.Before?.Verdict == FirewallVerdict.Allowed ? new[] { "Already allowed: nothing was changed." } : null);
                    ctx.Verbose(rec.ToString());
                    records.Add(rec);
                    continue;
                }
                bool all = true;
                foreach (var step in plan.Steps)
                    if (!ctx.ShouldProcess(step.Command.CommandLine, action)) all = false;
                if (all) todo.Add(plan);
            }
            if (todo.Count == 0) return records;
            Privilege.Demand("Adding a firewall rule");

            var tx = ctx.Transaction;
            var applied = new List<(FirewallPlan Plan, ChangeRecord Record)>();
            foreach (var plan in todo)
            {
                var rec = tx.Begin(plan.Target, action, Describe(plan.Before));
                foreach (var step in plan.Steps)
                    tx.Run(rec, action + " in " + plan.Backend, step.Command, step.Undo);
                applied.Add((plan, rec));
            }
            foreach (var (plan, rec) in applied)
            {
                var afterSnap = Reread(inspector, snaps.First(s => s.Name == plan.Backend), q);
                var after = FirewallEvaluator.Evaluate(afterSnap, q);
                rec.After = Describe(after);
                rec.Notes = plan.Notes.ToArray();
                foreach (var n in plan.Notes.Where(n => n.Contains("only"))) ctx.Warn(n);
                if (after.Verdict != FirewallVerdict.Allowed)
                    ctx.Warn($"{plan.Backend} still does not allow UDP {q.Port} after the change: {after.DecidingRule}.");
                records.Add(rec);
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
