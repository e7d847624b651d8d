using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Allows inbound UDP on WireGuard's port in the host firewall.</para>
    /// <para type="description">Adds an accept rule in the active backend (firewalld, else ufw, else every nftables or
    /// iptables backend that blocks the port), or in the one named with -Backend. Does nothing when the port is
    /// already allowed. Every command is shown with -WhatIf; a failure undoes what was already applied.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "WgFirewallRule", DefaultParameterSetName = "Interface", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ChangeRecord))]
    public sealed class AddWgFirewallRuleCommand : WgCmdlet
    {
        /// <summary>The WireGuard interface whose ListenPort is opened.</summary>
        [Parameter(Position = 0, ParameterSetName = "Interface", ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Interface { get; set; }

        /// <summary>The UDP port to open.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "Port")]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>The backend to change instead of the automatic choice.</summary>
        [Parameter]
        [ValidateSet("nftables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ufw", "firewalld")]
        public string Backend { get; set; }

        /// <summary>Returns a WgTroubleshoot.ChangeRecord per backend.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                Privilege.Demand("Adding a firewall rule");
                var targets = new FirewallTargets(Runner);
                var queries = targets.Resolve(Interface, ParameterSetName == "Port" ? Port : (int?)null);
                foreach (var q in queries) Process(q);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }

        private void Process(FirewallQuery q)
        {
            var inspector = new FirewallInspector(Runner);
            var snaps = inspector.ReadAll(q.Underlay);
            var before = snaps.Where(s => s.Active || s.Name == Backend).Select(s => FirewallEvaluator.Evaluate(s, q)).ToList();
            var plans = FirewallRulePlanner.Plan(snaps, before, q.Port, Backend, null, Runner.IsAvailable);
            var action = $"Allow inbound UDP {q.Port}" + (q.Interface != null ? $" ({q.Interface})" : "");
            if (plans.Count == 0)
            {
                var rec = ChangeTransaction.Unchanged("host firewall", action, "Allowed: no active host firewall", new[] { FirewallEvaluator.UpstreamNote });
                WriteVerbose(rec.ToString());
                if (PassThru) WriteObject(rec);
                return;
            }
            foreach (var plan in plans)
            {
                var state = Describe(plan.Before);
                if (plan.NothingToDo)
                {
                    var rec = ChangeTransaction.Unchanged(plan.Target, action, state, plan.Before?.Verdict == FirewallVerdict.Allowed ? new[] { "Already allowed: nothing was changed." } : null);
                    WriteVerbose(rec.ToString());
                    if (PassThru) WriteObject(rec);
                    continue;
                }
                // Ask for every command before running any, so a "no" leaves nothing half-done.
                bool all = true;
                foreach (var step in plan.Steps)
                    if (!ShouldProcess(step.Command.CommandLine, action)) all = false;
                if (!all) continue;

                var tx = new ChangeTransaction(Runner, action + " in " + plan.Backend);
                foreach (var step in plan.Steps) tx.Apply(step.Command, step.Undo);

                var afterSnap = snaps.First(s => s.Name == plan.Backend);
                afterSnap = Reread(inspector, afterSnap, q);
                var after = FirewallEvaluator.Evaluate(afterSnap, q);
                var record = tx.ToRecord(plan.Target, action, state, Describe(after), plan.Notes);
                foreach (var n in plan.Notes.Where(n => n.Contains("only"))) WriteWarning(n);
                if (after.Verdict != FirewallVerdict.Allowed)
                    WriteWarning($"{plan.Backend} still does not allow UDP {q.Port} after the change: {after.DecidingRule}.");
                if (PassThru) WriteObject(record);
            }
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
