using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>
    /// Every netfilter backend once: nftables (the whole ruleset), iptables/ip6tables legacy and nf_tables
    /// (iptables-save: filter, nat and mangle together), ufw, firewalld, and ufw's defaults. Each backend reports
    /// "netfilter:&lt;name&gt;"; "netfilter" is Ok only when every backend the kernel has was read. A tool that is
    /// missing while the kernel has its tables (nft gone, nf_tables loaded) is an unknown, not "no firewall".
    /// </summary>
    public sealed class NetfilterSource : ISnapshotSource
    {
        public string Name => SourceNames.Netfilter;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        /// <summary>The nft executable: WGT_NFT_PATH when set (a path that does not exist means "no nft"), else nft on PATH.</summary>
        public static string NftTool
        {
            get
            {
                var env = Environment.GetEnvironmentVariable("WGT_NFT_PATH");
                return string.IsNullOrEmpty(env) ? "nft" : env;
            }
        }

        /// <summary>Where the kernel lists its loaded modules and legacy tables (tests point these elsewhere).</summary>
        internal static string ProcRoot { get; set; } = "/";

        public void Collect(CollectContext ctx)
        {
            ctx.Progress("Local firewall", 30);
            var nf = ctx.Snapshot.Netfilter;
            var tunnels = new HashSet<string>(ctx.Snapshot.Interfaces.Select(i => i.Name), StringComparer.Ordinal);
            nf.Underlay = ctx.Snapshot.Links.Select(l => l.Name).Where(n => n != "lo" && !tunnels.Contains(n)).ToList();
            ReadBackends(ctx.Runner, nf, (backend, body) => ctx.Run(Name + ":" + backend, null, body),
                (backend, state, message) => ctx.Report(Name + ":" + backend, null, state, state == SourceState.Skipped ? null : ErrorIds.ToolNotInstalled, message),
                ufwWhenInactive: false);

            var unknown = ctx.Snapshot.Sources.Where(s => s.Name.StartsWith(Name + ":", StringComparison.Ordinal) && s.IsUnknown).ToList();
            if (unknown.Count > 0)
                ctx.Report(Name, null, unknown.Any(u => u.State == nameof(SourceState.Failed)) ? SourceState.Failed : SourceState.Unavailable,
                    unknown[0].ErrorId, string.Join(" ", unknown.Select(u => u.Message)));
        }

        /// <summary>
        /// Reads every netfilter backend installed here into <paramref name="nf"/> (its <see cref="NetfilterState.Underlay"/>
        /// picks the firewalld zones), in this order: firewalld, nftables, iptables and ip6tables (legacy, then nf_tables),
        /// ufw. This is the one set of commands both the snapshot and <see cref="FirewallInspector"/> run.
        /// <paramref name="read"/> runs each backend's read (the snapshot records a failure as that source's state, the
        /// inspector lets it throw); <paramref name="report"/>, when given, hears of a backend that could not be read
        /// (Unavailable: the kernel has its tables, the tool is missing) or was not asked (Skipped: ufw inactive). ufw's
        /// status is read when ufw's chains are in the iptables rules, ufw.conf enables it or iptables could not be read
        /// (ufw's defaults are read into <paramref name="nf"/> for that), and always with <paramref name="ufwWhenInactive"/>.
        /// </summary>
        public static void ReadBackends(INativeRunner r, NetfilterState nf, Action<string, Action> read, Action<string, SourceState, string> report, bool ufwWhenInactive)
        {
            if (r.IsAvailable("firewall-cmd")) read("firewalld", () => nf.Backends.Add(ReadFirewalld(r, nf.Underlay)));
            var nft = NftTool;
            if (r.IsAvailable(nft)) read("nftables", () => nf.Backends.Add(ReadNft(r)));
            else if (report != null && NfTablesMayHoldRules(r))
                report("nftables", SourceState.Unavailable,
                    $"'{nft}' is not installed, and this host's kernel has nf_tables (or it cannot be told that it has none): the nftables ruleset could not be read. {NativeRunner.InstallHint("nft")}");
            foreach (var family in new[] { "iptables", "ip6tables" })
            {
                bool legacy = r.IsAvailable(family + "-legacy-save"), nftFlavour = r.IsAvailable(family + "-nft-save");
                if (legacy) ReadIptables(r, nf, read, family + "-legacy", family + "-legacy-save", family + "-legacy");
                if (nftFlavour) ReadIptables(r, nf, read, family + "-nft", family + "-nft-save", family + "-nft");
                if (!legacy && !nftFlavour && r.IsAvailable(family + "-save"))
                {
                    var v = r.Run(family, new[] { "-V" });
                    var flavour = v.StdOut.Contains("nf_tables") ? "nft" : "legacy";
                    ReadIptables(r, nf, read, family + "-" + flavour, family + "-save", family);
                }
                else if (!legacy && !nftFlavour && report != null && LegacyTablesLoaded(family))
                    report(family + "-legacy", SourceState.Unavailable,
                        $"The kernel has {family} tables but {family}-save is not installed: those rules could not be read. {NativeRunner.InstallHint(family)}");
            }
            // ufw is a front end of iptables: while it is active its chains are in the rules just read. `ufw status`
            // (a Python program, seconds on a busy host) is asked only when they are there or ufw.conf enables it.
            if (!ufwWhenInactive) ReadUfwDefaults(nf);
            if (r.IsAvailable("ufw"))
            {
                bool iptablesRead = nf.Backends.Any(b => b.Name.StartsWith("iptables", StringComparison.Ordinal) || b.Name.StartsWith("ip6tables", StringComparison.Ordinal));
                bool chains = nf.Backends.Any(b => b.Text != null && UfwChains.IsMatch(b.Text));
                if (ufwWhenInactive || chains || nf.UfwEnabled || !iptablesRead)
                    read("ufw", () => nf.Backends.Add(ReadUfw(r)));
                else
                    report?.Invoke("ufw", SourceState.Skipped, "ufw is inactive: no ufw chains in the iptables rules and ufw.conf does not enable it.");
            }
        }

        private static readonly System.Text.RegularExpressions.Regex UfwChains = new System.Text.RegularExpressions.Regex(@"(?m)^:ufw6?-", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        private static void ReadIptables(INativeRunner r, NetfilterState nf, Action<string, Action> read, string name, string saveTool, string tool)
            => read(name, () => nf.Backends.Add(ReadIptables(r, name, saveTool, tool)));

        /// <summary>`nft list ruleset` (<see cref="NftTool"/>), with its warnings (the tables iptables-nft manages).</summary>
        public static NetfilterBackend ReadNft(INativeRunner r)
            => Backend("nftables", "nft", NativeRunner.RunChecked(r, "Reading the nftables ruleset", NftTool, new[] { "list", "ruleset" }));

        /// <summary>One iptables-save / ip6tables-save (filter, nat and mangle together) as backend <paramref name="name"/>, changed with <paramref name="tool"/>.</summary>
        public static NetfilterBackend ReadIptables(INativeRunner r, string name, string saveTool, string tool)
            => Backend(name, tool, NativeRunner.RunChecked(r, $"Reading the {name} rules", saveTool, new string[0]));

        /// <summary>`ufw status verbose`.</summary>
        public static NetfilterBackend ReadUfw(INativeRunner r)
            => Backend("ufw", "ufw", NativeRunner.RunChecked(r, "Reading the ufw status", "ufw", new[] { "status", "verbose" }));

        private static NetfilterBackend Backend(string name, string tool, NativeResult r)
            => new NetfilterBackend { Name = name, Tool = tool, Text = r.StdOut, Warnings = string.IsNullOrWhiteSpace(r.StdErr) ? null : r.StdErr };

        /// <summary>firewalld: running or not, and while it runs the zones that apply to <paramref name="underlay"/> (the default zone for a link in none) with their services' ports.</summary>
        public static NetfilterBackend ReadFirewalld(INativeRunner r, IReadOnlyList<string> underlay)
        {
            underlay = underlay ?? new string[0];
            var b = new NetfilterBackend { Name = "firewalld", Tool = "firewall-cmd" };
            var state = r.Run("firewall-cmd", new[] { "--state" });
            b.Running = state.Success && state.StdOut.Trim() == "running";
            if (b.Running)
            {
                var active = FirewalldParser.ParseActiveZones(NativeRunner.RunChecked(r, "Reading firewalld zones", "firewall-cmd", new[] { "--get-active-zones" }).StdOut);
                var defaultZone = NativeRunner.RunChecked(r, "Reading firewalld zones", "firewall-cmd", new[] { "--get-default-zone" }).StdOut.Trim();
                var names = active.Where(kv => kv.Value.Count > 0 && (underlay.Count == 0 || kv.Value.Any(underlay.Contains))).Select(kv => kv.Key).ToList();
                if (names.Count == 0 || underlay.Any(u => !active.Values.Any(v => v.Contains(u))))
                    if (!names.Contains(defaultZone) && defaultZone.Length > 0) names.Add(defaultZone);
                foreach (var kv in FirewalldParser.KnownServices) b.ServicePorts[kv.Key] = kv.Value;
                foreach (var z in names)
                {
                    var text = NativeRunner.RunChecked(r, "Reading firewalld zone " + z, "firewall-cmd", new[] { "--list-all", "--zone=" + z }).StdOut;
                    b.Zones[z] = text;
                    foreach (var svc in FirewalldParser.ParseZone(text).Services.Where(s => !b.ServicePorts.ContainsKey(s)))
                    {
                        var info = r.Run("firewall-cmd", new[] { "--info-service=" + svc });
                        if (info.Success) b.ServicePorts[svc] = FirewalldParser.ParseServicePorts(info.StdOut);
                    }
                }
            }
            return b;
        }

        private static void ReadUfwDefaults(NetfilterState nf)
        {
            // The same root as the sysctl files (WGT_SYSCTL_ROOT), so tests and labs can point both elsewhere.
            var root = new Forwarding.SysctlSettings().Root;
            string P(string path) => root.Length == 0 ? path : Path.Combine(root, path.TrimStart('/'));
            var defaults = P("/etc/default/ufw");
            if (!File.Exists(defaults)) return;
            foreach (var line in File.ReadAllLines(defaults))
            {
                var t = line.Trim();
                if (t.StartsWith("DEFAULT_FORWARD_POLICY=", StringComparison.Ordinal))
                    nf.UfwForwardPolicy = t.Substring("DEFAULT_FORWARD_POLICY=".Length).Trim().Trim('"');
            }
            var conf = P("/etc/ufw/ufw.conf");
            if (File.Exists(conf))
                nf.UfwEnabled = File.ReadAllLines(conf).Any(l => l.Trim().Replace(" ", "").Equals("ENABLED=yes", StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>
        /// Without nft, whether nf_tables may still hold rules here: yes when the module is loaded, when iptables
        /// itself is the nf_tables flavour, and when it cannot be told (no /proc/modules: built in or a container).
        /// Only a module list that is readable and lacks nf_tables, on a host with legacy iptables only, says no.
        /// </summary>
        private static bool NfTablesMayHoldRules(INativeRunner r)
        {
            if (!Changes.Privilege.IsLinux) return false;
            if (r.IsAvailable("iptables-nft") || r.IsAvailable("iptables-nft-save") || r.IsAvailable("ip6tables-nft")) return true;
            try
            {
                if (Directory.Exists(Path.Combine(ProcRoot, "sys/module/nf_tables"))) return true;
                var modules = Path.Combine(ProcRoot, "proc/modules");
                if (!File.Exists(modules)) return true;
                return File.ReadLines(modules).Any(l => l.StartsWith("nf_tables ", StringComparison.Ordinal));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return true; // cannot tell: say the rules could not be read rather than "no firewall"
            }
        }

        private static bool LegacyTablesLoaded(string family)
        {
            var names = Path.Combine(ProcRoot, family == "ip6tables" ? "proc/net/ip6_tables_names" : "proc/net/ip_tables_names");
            try
            {
                return File.Exists(names) && File.ReadAllText(names).Trim().Length > 0;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return false;
            }
        }
    }
}
