using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Commands;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remediation;

namespace WgTroubleshoot.Remedies
{
    /// <summary>A validated repair of one finding: what it runs (built from the Cause and validated data, never from text) and what allows it.</summary>
    public sealed class RemedyPlan
    {
        public string Cause { get; internal set; }
        public string Interface { get; internal set; }
        /// <summary>The policy repair kind that allows it in an unattended run.</summary>
        public RepairKind Kind { get; internal set; }
        /// <summary>True when Invoke-WgRemediation may run it without asking (when the policy allows <see cref="Kind"/>).</summary>
        public bool Unattended { get; internal set; }
        /// <summary>The equivalent cmdlet call (or command), as shown in Remediation, -WhatIf and reports.</summary>
        public string Display { get; internal set; }
        /// <summary>The validated parameters, by name.</summary>
        public IReadOnlyDictionary<string, string> Data { get; internal set; }
        /// <summary>
        /// Not null for a repair that only a remediation policy key allows (never allowedRepairs alone, never
        /// Repair-WgIssue): the key, as the policy writes it.
        /// </summary>
        public string PolicyKey { get; internal set; }
        internal Func<RemedyContext, IList<ChangeRecord>> Run { get; set; }
        /// <summary>
        /// What the verification checks on the new snapshot besides rerunning the checks (for a cause only
        /// both ends together show, which this host's checks cannot see): null when it holds, else what was read.
        /// </summary>
        internal Func<Snapshot.HostSnapshot, string> Verify { get; set; }
        /// <summary>False when the repair does not need a new handshake to show that it worked.</summary>
        public bool AwaitsHandshake { get; internal set; } = true;

        public IList<ChangeRecord> Execute(RemedyContext ctx) => Run(ctx);
        public override string ToString() => Display;
    }

    /// <summary>
    /// The one table of what a Cause means for repair: the remedy, the policy RepairKind that allows it, the
    /// RepairData keys it takes (each validated strictly; unknown, repeated or malformed keys refuse the repair),
    /// and whether it may run unattended. Findings piped in from anywhere (remoting, a file, made up) pass
    /// through here before anything runs.
    /// </summary>
    public static class RemedyCatalog
    {
        private sealed class Entry
        {
            public string Cause;
            public RepairKind Kind;
            public bool Unattended;
            public string PolicyKey;
            public Dictionary<string, Func<string, bool>> Keys;
            public string[] Required = new string[0];
            public Func<FindingRef, Dictionary<string, string>, (string Display, Func<RemedyContext, IList<ChangeRecord>> Run)> Build;
            public Func<FindingRef, Dictionary<string, string>, Func<Snapshot.HostSnapshot, string>> Verify;
            public bool AwaitsHandshake = true;
        }

        private static readonly string[] Backends = { "nftables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ufw", "firewalld" };

        private static bool IsBool(string v) => v == "true" || v == "false";
        private static bool IsPort(string v) => Int(v, 1, 65535).HasValue;
        private static bool IsMtu(string v) => Int(v, 576, 65535).HasValue;
        private static bool IsIface(string v) => Config.WgConfigLocation.IsValidInterfaceName(v);

        private static bool IsAddress(string v) => v != null && v.Length <= 45 && System.Net.IPAddress.TryParse(v, out var a) && a.ToString() == v;

        /// <summary>The path and firewall repairs (PathFaults/PathRepairs): each re-reads the live state it changes.</summary>
        private static (string, Func<RemedyContext, IList<ChangeRecord>>) Path(FindingRef f, Dictionary<string, string> d)
            => ("Repair-WgIssue: " + PathFaults.PathRepairs.Describe(f), ctx => PathFaults.PathRepairs.Apply(ctx, f));

        private static int? Int(string v, int min, int max)
        {
            if (v == null || v.Length == 0 || v.Length > 5 || !v.All(c => c >= '0' && c <= '9') || (v.Length > 1 && v[0] == '0')) return null;
            var n = int.Parse(v, CultureInfo.InvariantCulture);
            return n >= min && n <= max ? n : (int?)null;
        }

        private static readonly Entry[] Entries = BuildEntries();

        private static Entry[] BuildEntries()
        {
            var firewallKeys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
            {
                ["Interface"] = IsIface, ["Port"] = IsPort, ["Backend"] = v => Array.IndexOf(Backends, v) >= 0,
            };
            (string, Func<RemedyContext, IList<ChangeRecord>>) Firewall(FindingRef f, Dictionary<string, string> d)
            {
                // Backend (validated) names where the diagnosis saw the drop; the repair opens the port in every
                // backend that blocks it, in one transaction: a packet must pass all of them, and a repair of one
                // backend alone could never verify while another still drops.
                int? port = d.TryGetValue("Port", out var p) ? Int(p, 1, 65535) : null;
                string backend = null;
                var display = "Add-WgFirewallRule -Interface " + f.Interface;
                return (display, ctx =>
                {
                    // A port in the finding must be one the interface listens on: a finding cannot open another one.
                    var queries = new Firewall.FirewallTargets(ctx.Runner).Resolve(f.Interface, null);
                    if (port.HasValue && !queries.Any(q => q.Port == port.Value))
                        throw new WgException(ErrorIds.InvalidArgument, System.Management.Automation.ErrorCategory.InvalidArgument,
                            $"The finding names UDP port {port.Value}, which {f.Interface} does not listen on ({string.Join(", ", queries.Select(q => q.Port))}): not repaired.", f.Interface);
                    var records = new List<ChangeRecord>();
                    foreach (var q in queries) records.AddRange(FirewallRemedy.Allow(ctx, q, backend));
                    return records;
                });
            }
            var forwardingKeys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
            {
                ["Interface"] = IsIface, ["Nat"] = IsBool, ["IPv6"] = IsBool,
                // NatMissing of a masquerade that names another link: that link, for the record (the repair masquerades out of the real uplink).
                ["WrongOif"] = IsIface,
            };
            Func<FindingRef, Dictionary<string, string>, (string, Func<RemedyContext, IList<ChangeRecord>>)> Forwarding(bool natAlways)
                => (f, d) =>
                {
                    bool nat = natAlways || (d.TryGetValue("Nat", out var n) && n == "true");
                    bool v6 = d.TryGetValue("IPv6", out var x) && x == "true";
                    var display = "Enable-WgForwarding -Interface " + f.Interface + (nat ? " -Nat" : "") + (v6 ? " -IPv6" : "");
                    return (display, ctx => ForwardingRemedy.Set(ctx, true, f.Interface, v6, nat, null));
                };
            return new[]
            {
                new Entry { Cause = nameof(Cause.FirewallBlocksPort), Kind = RepairKind.Firewall, Unattended = true, Keys = firewallKeys, Build = Firewall },
                new Entry { Cause = nameof(Cause.TcpOnlyFirewallRule), Kind = RepairKind.Firewall, Unattended = true, Keys = firewallKeys, Build = Firewall },
                new Entry
                {
                    Cause = nameof(Cause.StaleEndpoint), Kind = RepairKind.Endpoint, Unattended = true,
                    // OneWay=true: the diagnosis' liveness probe proved data goes out and nothing comes back. Then the
                    // fresh-handshake rule (135 s) does not hold the repair back: the name is resolved again and the
                    // probe repeated live before the endpoint is set (EndpointRemedy.UpdateOneWay), without -Force.
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface, ["PublicKey"] = Keys.WgKey.IsValid, ["OneWay"] = v => v == "true" },
                    Build = (f, d) =>
                    {
                        var key = d.TryGetValue("PublicKey", out var k) ? k : f.Peer;
                        bool oneWay = d.ContainsKey("OneWay");
                        var display = "Update-WgEndpoint -Interface " + f.Interface + " -PublicKey " + Quote(key) + (oneWay ? " -Force" : "");
                        return (display, ctx => oneWay ? EndpointRemedy.UpdateOneWay(ctx, f.Interface, key) : EndpointRemedy.Update(ctx, new[] { f.Interface }, new[] { key }, false));
                    },
                },
                new Entry { Cause = nameof(Cause.ForwardingDisabled), Kind = RepairKind.Forwarding, Unattended = true, Keys = forwardingKeys, Build = Forwarding(false) },
                // The forward path is opened where it is decided: the chain walk finds every base chain that drops
                // (DOCKER-USER first where it exists, ufw route rules under ufw), PathFaults/PathRepairs.
                new Entry { Cause = nameof(Cause.ForwardPathBlocked), Kind = RepairKind.Forwarding, Unattended = true, Keys = forwardingKeys, Build = Path },
                new Entry { Cause = nameof(Cause.FirewallBlocksReplies), Kind = RepairKind.Firewall, Unattended = true, Keys = firewallKeys, Build = Path },
                new Entry
                {
                    Cause = nameof(Cause.ReversePathFilter), Kind = RepairKind.Forwarding, Unattended = true, Required = new[] { "Uplink" },
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface, ["Uplink"] = IsIface, ["RpFilter"] = v => v == "2" },
                    Build = Path,
                },
                new Entry
                {
                    // What the peers may reach on this host is a policy decision: only the policy key allows it.
                    Cause = nameof(Cause.TunnelInputBlocked), Kind = RepairKind.Firewall, Unattended = false, PolicyKey = PathFaults.PathRepairs.TunnelInputPolicyKey,
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface },
                    Build = Path,
                },
                new Entry
                {
                    Cause = nameof(Cause.HookRulesMissing), Kind = RepairKind.Firewall, Unattended = true,
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface },
                    Build = Path,
                },
                new Entry
                {
                    // A host route to the endpoint via the uplink's gateway, re-checked live before it is added.
                    Cause = nameof(Cause.EndpointRoutedIntoTunnel), Kind = RepairKind.Link, Unattended = true, Required = new[] { "Endpoint", "Via", "Dev" },
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
                    {
                        ["Interface"] = IsIface, ["Endpoint"] = IsAddress, ["Via"] = IsAddress, ["Dev"] = IsIface,
                    },
                    Build = (f, d) => Liveness.EndpointRouteRepair.Commands(f) is NativeCommand[] c
                        ? (c[0].CommandLine, ctx => Liveness.EndpointRouteRepair.Apply(ctx, f))
                        : ((string, Func<RemedyContext, IList<ChangeRecord>>))(null, null),
                },
                new Entry
                {
                    Cause = nameof(Cause.StaleConntrack), Kind = RepairKind.Firewall, Unattended = true, Required = new[] { "OrigSrc", "OrigDst", "OrigSport", "OrigDport" },
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
                    {
                        ["Interface"] = IsIface, ["OrigSrc"] = IsAddress, ["OrigDst"] = IsAddress, ["OrigSport"] = IsPort, ["OrigDport"] = IsPort,
                    },
                    Build = Path,
                },
                new Entry
                {
                    // TCPMSS --clamp-mss-to-pmtu in the forward path of the backend that forwards (re-checked live first).
                    Cause = nameof(Cause.MssClampMissing), Kind = RepairKind.Firewall, Unattended = true,
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
                    {
                        ["Interface"] = IsIface, ["Backend"] = v => Array.IndexOf(PathFaults.MssClampRepair.Backends, v) >= 0,
                        // IPv4 SYNs in through the tunnel are set to this MSS when the tunnel's own MTU is the limit.
                        ["Mss"] = v => Int(v, 536, 65495).HasValue,
                        // the tunnel carries IPv6 the host forwards: clamp IPv6 too (ip6tables), IPv6 SYNs set to Mss6
                        ["IPv6"] = v => v == "true", ["Mss6"] = v => Int(v, 536, 65495).HasValue,
                    },
                    Build = (f, d) => ("Repair-WgIssue: " + PathFaults.MssClampRepair.Describe(f), ctx => PathFaults.MssClampRepair.Apply(ctx, f)),
                },
                // A masquerade that names another link than the uplink (WrongOif) is rewritten in place, live and in
                // the PostUp/PostDown lines (NatRewriteRemedy), never doubled by a second masquerade beside it.
                new Entry
                {
                    Cause = nameof(Cause.NatMissing), Kind = RepairKind.Nat, Unattended = true, Keys = forwardingKeys,
                    Build = (f, d) => d.TryGetValue("WrongOif", out var wrong)
                        ? (NatRewriteRemedy.Describe(f.Interface, wrong), ctx => NatRewriteRemedy.Apply(ctx, f.Interface, wrong))
                        : Forwarding(true)(f, d),
                },
                new Entry
                {
                    Cause = nameof(Cause.MtuBlackhole), Kind = RepairKind.Mtu, Unattended = true, Required = new[] { "Mtu" },
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface, ["Mtu"] = IsMtu },
                    Build = (f, d) =>
                    {
                        var mtu = Int(d["Mtu"], 576, 65535).Value;
                        var display = "Set-WgMtu -Interface " + f.Interface + " -Mtu " + mtu.ToString(CultureInfo.InvariantCulture) + " -Scope Both";
                        return (display, ctx => MtuRemedy.Set(ctx, f.Interface, _ => mtu, MtuScope.Both));
                    },
                },
                new Entry
                {
                    // On the side behind the NAT (the finding of a two-end diagnosis carries that host's name and is
                    // repaired there): the keepalive refreshes the NAT's mapping, no new handshake is needed.
                    Cause = nameof(Cause.NoKeepaliveBehindNat), Kind = RepairKind.Keepalive, Unattended = true, Required = new[] { "PublicKey", "Keepalive" },
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal)
                    {
                        ["Interface"] = IsIface, ["PublicKey"] = Keys.WgKey.IsValid, ["Keepalive"] = v => Int(v, 1, 65535).HasValue,
                    },
                    Build = (f, d) =>
                    {
                        var key = d["PublicKey"];
                        var seconds = Int(d["Keepalive"], 1, 65535).Value;
                        return (KeepaliveRemedy.Display(f.Interface, key, seconds), ctx => KeepaliveRemedy.Set(ctx, f.Interface, key, seconds));
                    },
                    Verify = (f, d) =>
                    {
                        var key = d["PublicKey"];
                        var seconds = Int(d["Keepalive"], 1, 65535).Value;
                        return snap => KeepaliveRemedy.Verify(snap, f.Interface, key, seconds);
                    },
                    AwaitsHandshake = false,
                },
                new Entry
                {
                    Cause = nameof(Cause.InterfaceDown), Kind = RepairKind.Link, Unattended = true,
                    Keys = new Dictionary<string, Func<string, bool>>(StringComparer.Ordinal) { ["Interface"] = IsIface },
                    Build = (f, d) => ("ip link set dev " + f.Interface + " up", ctx => LinkRemedy.Up(ctx, f.Interface)),
                },
            };
        }

        /// <summary>The causes the module can repair.</summary>
        public static IEnumerable<string> RepairableCauses => Entries.Select(e => e.Cause);

        /// <summary>The policy repair kind that allows a cause's repair; null when the cause has no repair.</summary>
        public static RepairKind? KindFor(string cause) => Entries.FirstOrDefault(e => e.Cause == cause)?.Kind;

        /// <summary>The plan for a finding, or null with the reason it is refused.</summary>
        public static RemedyPlan Plan(FindingRef f, out string refusal)
        {
            refusal = null;
            if (f == null) { refusal = "no finding"; return null; }
            var e = Entries.FirstOrDefault(x => x.Cause == f.Cause);
            if (e == null) { refusal = $"{f.Cause ?? "(no cause)"} has no automatic repair: it needs a human."; return null; }
            // A policy-only repair (TunnelInputBlocked) is never marked repairable: only its policy key runs it (RemediationRun, Repairer).
            if (!f.CanRepair && e.PolicyKey == null) { refusal = "the finding is not marked repairable."; return null; }
            if (!IsIface(f.Interface)) { refusal = $"'{f.Interface}' is not a valid interface name."; return null; }
            var data = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in f.RepairData ?? new string[0])
            {
                int eq = kv?.IndexOf('=') ?? -1;
                if (eq <= 0) { refusal = "malformed repair data (expected Key=Value)."; return null; }
                var key = kv.Substring(0, eq);
                var value = kv.Substring(eq + 1);
                if (!e.Keys.TryGetValue(key, out var valid)) { refusal = $"repair data {Name(key)} is not a parameter of the {f.Cause} repair (allowed: {string.Join(", ", e.Keys.Keys)})."; return null; }
                if (data.ContainsKey(key)) { refusal = $"repair data '{key}' is given twice."; return null; }
                if (!valid(value)) { refusal = $"repair data {key} has a value that is not valid for it."; return null; }
                data[key] = value;
            }
            if (data.TryGetValue("Interface", out var di) && di != f.Interface) { refusal = $"the repair data names interface '{di}', the finding '{f.Interface}'."; return null; }
            foreach (var r in e.Required)
                if (!data.ContainsKey(r)) { refusal = $"the {f.Cause} repair needs {r} in its repair data."; return null; }
            if (f.Cause == nameof(Cause.NoKeepaliveBehindNat) && f.Peer != null && f.Peer != data["PublicKey"]) { refusal = "the repair data names another peer than the finding."; return null; }
            if (f.Cause == nameof(Cause.StaleEndpoint))
            {
                data.TryGetValue("PublicKey", out var pk);
                if (pk == null && !Keys.WgKey.IsValid(f.Peer)) { refusal = "the StaleEndpoint repair needs the peer's public key."; return null; }
                if (pk != null && f.Peer != null && pk != f.Peer) { refusal = "the repair data names another peer than the finding."; return null; }
            }
            var (display, run) = e.Build(f, data);
            if (run == null) { refusal = $"the {f.Cause} repair data is not consistent."; return null; }
            return new RemedyPlan
            {
                Cause = e.Cause, Interface = f.Interface, Kind = e.Kind, Unattended = e.Unattended, Display = display, Data = data, Run = run,
                Verify = e.Verify?.Invoke(f, data), AwaitsHandshake = e.AwaitsHandshake, PolicyKey = e.PolicyKey,
            };
        }

        internal static string Quote(string s) => s.IndexOfAny(new[] { ' ', '+', '/', '=', '\'', ',' }) >= 0 ? "'" + s.Replace("'", "''") + "'" : s;

        /// <summary>A key name as given, when it looks like one; values are never echoed (they could be anything, a key included).</summary>
        private static string Name(string s) => Regex.IsMatch(s, "^[A-Za-z][A-Za-z0-9]{0,19}$") ? "'" + s + "'" : "(a malformed name)";
    }
}
