using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Firewall
{
    /// <summary>One command of a plan and how to undo it (the undo may need the command's output).</summary>
    public sealed class PlannedStep
    {
        public NativeCommand Command { get; set; }
        public Func<NativeResult, IEnumerable<NativeCommand>> Undo { get; set; }
    }

    /// <summary>The commands that open the port in one backend.</summary>
    public sealed class FirewallPlan
    {
        public string Backend { get; set; }
        public string Target { get; set; }
        public FirewallStatus Before { get; set; }
        public List<PlannedStep> Steps { get; } = new List<PlannedStep>();
        public List<string> Notes { get; } = new List<string>();
        public bool NothingToDo => Steps.Count == 0;
    }

    /// <summary>
    /// Decides which backend to change and the exact commands that allow inbound UDP on a port.
    /// Choice: the named backend; else firewalld when running, else ufw when active (they own the rules
    /// beneath them); else every nftables/iptables backend that does not already allow the port (a packet must
    /// pass all of them).
    /// Persistence: ufw and firewalld (--permanent) keep the rule themselves. iptables: when
    /// netfilter-persistent is installed and /etc/iptables/rules.v4 (rules.v6) exists, `netfilter-persistent
    /// save` writes the running rules there. nftables: the rule is added to the running ruleset only, and
    /// /etc/nftables.conf is not edited, because nothing shows that file is the ruleset loaded now (other
    /// tools, include files, a different flush); a note says what to add to it.
    /// </summary>
    public static class FirewallRulePlanner
    {
        public const string Comment = "wgtroubleshoot";

        public static List<FirewallPlan> Plan(IList<BackendSnapshot> snaps, IList<FirewallStatus> statuses, int port, string backend,
            Func<string, bool> fileExists = null, Func<string, bool> toolExists = null)
        {
            fileExists = fileExists ?? File.Exists;
            toolExists = toolExists ?? (_ => false);
            var plans = new List<FirewallPlan>();
            var active = snaps.Where(s => s.Active).ToList();
            IEnumerable<BackendSnapshot> chosen;
            if (backend != null)
            {
                var named = snaps.Where(s => string.Equals(s.Name, backend, StringComparison.OrdinalIgnoreCase)
                                             || string.Equals(s.Tool, backend, StringComparison.OrdinalIgnoreCase)).ToList();
                if (named.Count == 0)
                    throw new WgException(ErrorIds.ToolNotInstalled, System.Management.Automation.ErrorCategory.NotInstalled,
                        $"The firewall backend '{backend}' is not present on this host. Present: {string.Join(", ", snaps.Select(s => s.Name))}.", backend);
                chosen = named;
            }
            else if (active.Any(s => s.Name == "firewalld")) chosen = active.Where(s => s.Name == "firewalld");
            else if (active.Any(s => s.Name == "ufw")) chosen = active.Where(s => s.Name == "ufw");
            else chosen = active.Where(s => s.Nft != null || s.Iptables != null);

            foreach (var snap in chosen)
            {
                var status = statuses.FirstOrDefault(s => s.Backend == snap.Name);
                var plan = new FirewallPlan { Backend = snap.Name, Before = status, Target = snap.Name };
                plans.Add(plan);
                if (status != null && status.Verdict == FirewallVerdict.Allowed) continue;
                if (!snap.Active && snap.Nft == null && snap.Iptables == null) continue; // inactive ufw/firewalld filter nothing
                var spec = port + "/udp";
                switch (snap.Name)
                {
                    case "ufw":
                        plan.Steps.Add(Step(new NativeCommand("ufw", "allow", spec), new NativeCommand("ufw", "delete", "allow", spec)));
                        plan.Notes.Add("ufw keeps the rule across reboots.");
                        break;
                    case "firewalld":
                    {
                        var zone = FirstBlockingZone(snap, port) ?? snap.Zones?.FirstOrDefault()?.Name;
                        var zoneArg = zone != null ? new[] { "--zone=" + zone } : new string[0];
                        plan.Target = "firewalld zone " + (zone ?? "(default)");
                        plan.Steps.Add(Step(new NativeCommand("firewall-cmd", zoneArg.Concat(new[] { "--add-port=" + spec }).ToArray()),
                            new NativeCommand("firewall-cmd", zoneArg.Concat(new[] { "--remove-port=" + spec }).ToArray())));
                        plan.Steps.Add(Step(new NativeCommand("firewall-cmd", new[] { "--permanent" }.Concat(zoneArg).Concat(new[] { "--add-port=" + spec }).ToArray()),
                            new NativeCommand("firewall-cmd", new[] { "--permanent" }.Concat(zoneArg).Concat(new[] { "--remove-port=" + spec }).ToArray())));
                        plan.Notes.Add("The port is added to the running and the permanent configuration; no --reload is run, so runtime-only changes made by others are kept.");
                        break;
                    }
                    case "nftables":
                    {
                        var chains = BlockingChains(snap, port);
                        plan.Target = "nftables " + string.Join(", ", chains.Select(c => c.Table + " " + c.Name));
                        foreach (var c in chains)
                        {
                            var fam = c.Family;
                            var table = c.Table.Substring(fam.Length + 1);
                            var chainName = c.Name;
                            plan.Steps.Add(new PlannedStep
                            {
                                Command = new NativeCommand("nft", "--echo", "--handle", "insert", "rule", fam, table, chainName, "udp", "dport", port.ToString(), "accept", "comment", "\"" + Comment + "\""),
                                Undo = r =>
                                {
                                    var m = Regex.Match(r.StdOut, @"#\s*handle\s+(\d+)");
                                    return m.Success ? new[] { new NativeCommand("nft", "delete", "rule", fam, table, chainName, "handle", m.Groups[1].Value) } : new NativeCommand[0];
                                },
                            });
                        }
                        plan.Notes.Add($"nftables: the rule is in the running ruleset only. /etc/nftables.conf was not edited (it is not known to be the ruleset loaded now); to keep the rule, add 'udp dport {port} accept' at the top of the same chain in the file that defines it.");
                        break;
                    }
                    default:
                    {
                        if (snap.Iptables == null) break;
                        var chains = BlockingChains(snap, port);
                        plan.Target = snap.Name + " " + string.Join(", ", chains.Select(c => c.Table + " " + c.Name));
                        bool v6 = snap.Iptables.IsIPv6;
                        var rulesFile = v6 ? "/etc/iptables/rules.v6" : "/etc/iptables/rules.v4";
                        bool persist = toolExists("netfilter-persistent") && fileExists(rulesFile);
                        foreach (var c in chains)
                        {
                            var table = c.Table == "filter" ? new string[0] : new[] { "-t", c.Table };
                            var match = new[] { c.Name, "-p", "udp", "--dport", port.ToString(), "-m", "comment", "--comment", Comment, "-j", "ACCEPT" };
                            var undo = new List<NativeCommand> { new NativeCommand(snap.Tool, table.Concat(new[] { "-D" }).Concat(match).ToArray()) };
                            if (persist) undo.Add(new NativeCommand("netfilter-persistent", "save"));
                            plan.Steps.Add(Step(new NativeCommand(snap.Tool, table.Concat(new[] { "-I" }).Concat(match).ToArray()), undo.ToArray()));
                        }
                        if (persist)
                        {
                            plan.Steps.Add(Step(new NativeCommand("netfilter-persistent", "save")));
                            plan.Notes.Add($"netfilter-persistent saved the running rules to {rulesFile}, so the rule survives a reboot.");
                        }
                        else plan.Notes.Add($"{snap.Name}: the rule is in the running rules only (netfilter-persistent with {rulesFile} is not in use); save it the way this host loads its rules at boot.");
                        break;
                    }
                }
            }
            return plans;
        }

        private static PlannedStep Step(NativeCommand cmd, params NativeCommand[] undo)
            => new PlannedStep { Command = cmd, Undo = _ => undo };

        /// <summary>The base chains where an accept must go: those that drop the port (IPv4 and IPv6), else every input chain.</summary>
        public static List<FwChain> BlockingChains(BackendSnapshot snap, int port)
        {
            var probes = snap.Nft != null
                ? new[] { new Probe { Port = port }, new Probe { Port = port, IsIPv6 = true } }
                : new[] { new Probe { Port = port, IsIPv6 = snap.Iptables.IsIPv6 } };
            var result = new List<FwChain>();
            foreach (var p in probes)
            {
                var chains = snap.Nft != null ? snap.Nft.BaseChainsFor(p) : snap.Iptables.BaseChainsFor(p);
                var r = ChainWalker.Walk(chains, p);
                if (r.Blocked && r.Certain) result.AddRange(r.BlockingBaseChains);
                else if (!r.Certain) result.AddRange(chains.Where(c => c.Hook == "input"));
            }
            return result.Distinct().ToList();
        }

        private static string FirstBlockingZone(BackendSnapshot snap, int port)
        {
            if (snap.Zones == null) return null;
            foreach (var z in snap.Zones)
            {
                var r = ChainWalker.Walk(new[] { z.ToChain(snap.ServicePorts) }, new Probe { Port = port });
                if (!r.Allowed || !r.Certain) return z.Name;
            }
            return null;
        }
    }
}
