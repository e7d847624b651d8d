using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>-Deep on a host that forwards: the TCP SYNs that arrived through the tunnel, with their MSS option.</summary>
    public sealed class SynCapture
    {
        public int Seconds { get; set; }
        /// <summary>The tcpdump filter and direction (inbound on the tunnel interface only).</summary>
        public string Filter { get; set; }
        /// <summary>Distinct (source, destination, MSS, SYN/SYN-ACK) seen, with how often.</summary>
        public List<SynSeen> Syns { get; set; } = new List<SynSeen>();
        /// <summary>True when more packets came than were read (the capture stopped at its limit).</summary>
        public bool Truncated { get; set; }
    }

    /// <summary>One kind of SYN seen arriving through the tunnel.</summary>
    public sealed class SynSeen
    {
        public string Source { get; set; }
        public string Destination { get; set; }
        public int DestinationPort { get; set; }
        /// <summary>The MSS option's value (SYNs without one are not kept).</summary>
        public int Mss { get; set; }
        /// <summary>A SYN-ACK (the answer of a connection the other side opened).</summary>
        public bool Ack { get; set; }
        public bool IPv6 { get; set; }
        public int Count { get; set; }
        /// <summary>The line tcpdump printed for the first of them.</summary>
        public string Line { get; set; }
    }

    /// <summary>The route a forwarded packet takes: `ip route get DST from SRC iif TUNNEL`.</summary>
    public sealed class ForwardRoute
    {
        public string Source { get; set; }
        public string Destination { get; set; }
        public string InInterface { get; set; }
        /// <summary>True when the lookup succeeded.</summary>
        public bool Ok { get; set; }
        /// <summary>The route's type when not unicast (local, unreachable ...).</summary>
        public string Type { get; set; }
        public string Device { get; set; }
        /// <summary>A route MTU or a learned path MTU the answer names (`mtu N`); null when it names none.</summary>
        public int? Mtu { get; set; }
        public string Text { get; set; }
    }
}

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>Reads tcpdump's one-line output of TCP SYNs ("IP a.b.c.d.p > e.f.g.h.q: Flags [S], ... options [mss 1380,...]").</summary>
    public static class SynLineParser
    {
        private static readonly Regex Line = new Regex(
            @"^(?:\S+\s+)?(?<fam>IP6?)\s+(?<src>\S+)\.(?<sp>\d+)\s+>\s+(?<dst>\S+)\.(?<dp>\d+):\s+Flags\s+\[(?<flags>[^\]]*)\].*?\bmss\s+(?<mss>\d+)",
            RegexOptions.Compiled | RegexOptions.CultureInvariant);

        /// <summary>The SYN of one line; null for anything else (no SYN flag, no MSS option, an address that does not parse).</summary>
        public static SynSeen Parse(string line)
        {
            if (string.IsNullOrEmpty(line) || line.Length > 2000) return null;
            var m = Line.Match(line);
            if (!m.Success) return null;
            var flags = m.Groups["flags"].Value;
            if (flags.IndexOf('S') < 0) return null;
            if (!IPAddress.TryParse(m.Groups["src"].Value, out var src) || !IPAddress.TryParse(m.Groups["dst"].Value, out var dst)) return null;
            if (!int.TryParse(m.Groups["mss"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var mss) || mss <= 0 || mss > 65535) return null;
            int.TryParse(m.Groups["dp"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var dp);
            return new SynSeen
            {
                Source = src.ToString(), Destination = dst.ToString(), DestinationPort = dp, Mss = mss,
                Ack = flags.IndexOf('.') >= 0, IPv6 = m.Groups["fam"].Value == "IP6", Count = 1, Line = line.Trim(),
            };
        }

        /// <summary>Adds a SYN to the distinct list (same source, destination, MSS and kind: counted), at most <paramref name="max"/> kinds.</summary>
        public static void Add(List<SynSeen> list, SynSeen s, int max)
        {
            var same = list.FirstOrDefault(x => x.Source == s.Source && x.Destination == s.Destination && x.Mss == s.Mss && x.Ack == s.Ack);
            if (same != null) { same.Count++; return; }
            if (list.Count < max) list.Add(s);
        }

        /// <summary>Reads one `ip route get` answer into a forward route.</summary>
        public static ForwardRoute Route(string src, string dst, string iif, NativeResult r)
        {
            var answer = PathFaults.RouteAnswer.Parse(dst, r.ExitCode, r.StdOut, r.StdErr);
            var fr = new ForwardRoute
            {
                Source = src, Destination = dst, InInterface = iif, Ok = answer.Error == null,
                Type = answer.Type, Device = answer.Device, Text = answer.Text,
            };
            var all = (r.StdOut ?? "").Replace("\r", "").Replace("\n", " ");
            var m = Regex.Match(all, @"\bmtu\s+(?:lock\s+)?(\d{3,5})\b", RegexOptions.CultureInvariant);
            if (m.Success) fr.Mtu = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return fr;
        }
    }

    /// <summary>
    /// -Deep, on a host that forwards (ip_forward or IPv6 forwarding on): captures for a few seconds the TCP SYNs
    /// that arrive through each WireGuard interface (tcpdump -Q in, SYN and SYN-ACK, IPv4 and IPv6) and reads
    /// their MSS option, then looks up where each is forwarded (`ip route get DST from SRC iif TUNNEL`). The
    /// MssClamp check compares the MSS with the MTU of that path. Needs tcpdump and root.
    /// </summary>
    public sealed class TcpSynSource : ISnapshotSource
    {
        public const string SourceName = "tcp-syn";
        /// <summary>Packets read at most per interface, and distinct SYN kinds kept.</summary>
        public const int MaxPackets = 400, MaxKinds = 64, MaxRoutes = 32;
        /// <summary>SYN or SYN-ACK, IPv4 (tcpflags) or IPv6 without extension headers (next header TCP, flags byte at 40 + 13).</summary>
        public const string Filter = "(tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 2 != 0)";

        public string Name => SourceName;
        public SnapshotStage Stage => SnapshotStage.AfterSample;

        internal static int Seconds(SnapshotRequest r) => Math.Min(30, Math.Max(4, r.TraceSeconds));

        public void Collect(CollectContext ctx)
        {
            if (!ctx.Request.Deep) { ctx.Report(Name, null, SourceState.Skipped, message: "SYNs through the tunnel are looked at only with -Deep."); return; }
            var sys = ctx.Snapshot.Sysctls;
            bool forwards = sys.Get("net.ipv4.ip_forward")?.Trim() == "1" || sys.Get("net.ipv6.conf.all.forwarding")?.Trim() == "1";
            if (!forwards) { ctx.Report(Name, null, SourceState.Skipped, message: "This host does not forward (ip_forward and IPv6 forwarding are off): no MSS to clamp."); return; }
            foreach (var i in ctx.Snapshot.Interfaces)
            {
                if (ctx.Cancel.IsCancellationRequested) return;
                if (i.Last == null) continue;
                if (!Privilege.IsLinux || !Privilege.IsElevated())
                {
                    ctx.Report(Name, i.Name, SourceState.Unavailable, ErrorIds.PermissionDenied, "Capturing the SYNs through the tunnel needs root on Linux: the TCP MSS was not judged.");
                    continue;
                }
                if (!ctx.Runner.IsAvailable("tcpdump"))
                {
                    ctx.Report(Name, i.Name, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "tcpdump is not installed: the TCP MSS through the tunnel was not judged. " + NativeRunner.InstallHint("tcpdump"));
                    continue;
                }
                ctx.Progress($"{i.Name}: TCP SYNs through the tunnel", 80);
                ctx.Run(Name, i.Name, () =>
                {
                    var cap = Capture(ctx.Runner, i.Name, Seconds(ctx.Request), ctx.Cancel);
                    i.Syns = cap;
                    if (ctx.Runner.IsAvailable("ip"))
                        foreach (var pair in cap.Syns.Select(s => new { s.Source, s.Destination, s.IPv6 }).Distinct().Take(MaxRoutes))
                        {
                            var r = ctx.Runner.Run("ip", new[] { pair.IPv6 ? "-6" : "-4", "route", "get", pair.Destination, "from", pair.Source, "iif", i.Name });
                            i.ForwardRoutes.Add(SynLineParser.Route(pair.Source, pair.Destination, i.Name, r));
                        }
                    ctx.Verbose($"Snapshot: {i.Name}: {cap.Syns.Sum(s => s.Count)} SYNs through the tunnel in {cap.Seconds} s ({cap.Syns.Count} kinds).");
                });
            }
        }

        /// <summary>tcpdump -i IFACE -Q in: line-buffered text, no names, for <paramref name="seconds"/> (or until the packet limit).</summary>
        internal static SynCapture Capture(INativeRunner runner, string iface, int seconds, CancellationToken cancel)
        {
            if (!InterfaceName.IsValid(iface)) throw new WgException(ErrorIds.InvalidArgument, System.Management.Automation.ErrorCategory.InvalidArgument, $"'{iface}' is not a valid interface name.", iface);
            var args = new List<string> { "-i", iface, "-Q", "in", "-n", "-t", "-l", "-c", MaxPackets.ToString(CultureInfo.InvariantCulture), "-Z", "root", Filter };
            var cap = new SynCapture { Seconds = seconds, Filter = "tcpdump " + string.Join(" ", args.Take(args.Count - 1)) + " '" + Filter + "'" };
            var lines = new List<string>();
            var done = new ManualResetEventSlim();
            using (var proc = runner.Start("tcpdump", args, TimeSpan.FromSeconds(seconds) + Trace.TrafficCapture.StartTimeout + Trace.TrafficCapture.Margin))
            {
                var thread = new Thread(() =>
                {
                    try
                    {
                        using (var reader = new StreamReader(proc.StandardOutput, Encoding.UTF8))
                        {
                            string l;
                            while ((l = reader.ReadLine()) != null) lock (lines) { if (lines.Count < MaxPackets) lines.Add(l); }
                        }
                    }
                    catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException) { }
                    finally { done.Set(); }
                }) { IsBackground = true, Name = "tcpdump SYN reader" };
                thread.Start();
                WaitHandle.WaitAny(new[] { done.WaitHandle, cancel.WaitHandle }, TimeSpan.FromSeconds(seconds));
                bool early = done.IsSet;
                proc.Stop();
                done.Wait(2000);
                if (early && proc.ExitCode.HasValue && proc.ExitCode.Value != 0 && lines.Count == 0)
                {
                    var err = proc.StandardError.Split('\n').Select(x => x.Trim()).FirstOrDefault(x => x.Length > 0 && !x.StartsWith("listening on", StringComparison.Ordinal) && !x.StartsWith("tcpdump: verbose", StringComparison.Ordinal));
                    var what = $"The capture of SYNs on {iface} failed: '{proc.CommandLine}' said: {err ?? "exit code " + proc.ExitCode.Value}";
                    if (NativeRunner.IsPermissionProblem(proc.StandardError))
                        throw new WgException(ErrorIds.PermissionDenied, System.Management.Automation.ErrorCategory.PermissionDenied, what, proc.CommandLine);
                    throw new WgException(ErrorIds.ToolFailed, System.Management.Automation.ErrorCategory.InvalidResult, what, proc.CommandLine);
                }
                cap.Truncated = lines.Count >= MaxPackets;
            }
            lock (lines)
                foreach (var l in lines)
                {
                    var s = SynLineParser.Parse(l);
                    if (s != null) SynLineParser.Add(cap.Syns, s, MaxKinds);
                }
            return cap;
        }
    }

    /// <summary>A peer's AllowedIPs prefix that lies inside the network of an address on another link of this host.</summary>
    public sealed class SubnetOverlap
    {
        public string Peer { get; set; }
        public string Prefix { get; set; }
        public string Link { get; set; }
        /// <summary>The link's address in CIDR form, and its network.</summary>
        public string LinkAddress { get; set; }
        public string LinkNetwork { get; set; }
        /// <summary>The remote host looked up: the first host of the prefix.</summary>
        public string Host { get; set; }
    }

    /// <summary>
    /// LocalSubnetConflict's facts: the overlaps between a peer's AllowedIPs (not a default route) and the networks
    /// of the addresses on the host's other links (not loopback, not the WireGuard interfaces looked at), and the
    /// route to one remote host inside each (`ip route get HOST`, kept in <see cref="RouteState.Lookups"/>).
    /// </summary>
    public sealed class SubnetRouteSource : ISnapshotSource
    {
        public const string SourceName = "subnet-routes";
        public const int MaxLookups = 64;

        public string Name => SourceName;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        /// <summary>The overlaps of one interface (pure: also what the check recomputes from a replayed snapshot).</summary>
        public static List<SubnetOverlap> Overlaps(HostSnapshot host, InterfaceSnapshot iface)
        {
            var list = new List<SubnetOverlap>();
            var wg = new HashSet<string>(host.Interfaces.Select(x => x.Name), StringComparer.Ordinal);
            var sample = iface.Last;
            if (sample == null) return list;
            foreach (var p in sample.Peers)
                foreach (var prefix in p.AllowedIPs ?? new string[0])
                {
                    var allowed = Config.IpPrefix.Parse(prefix?.Trim());
                    if (allowed == null || allowed.Length == 0) continue;
                    foreach (var l in host.Links)
                    {
                        if (l.Name == null || l.Name == "lo" || wg.Contains(l.Name)) continue;
                        foreach (var a in l.Addresses)
                        {
                            var net = Config.IpPrefix.NetworkOf(a);
                            if (net == null || net.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase)) continue;
                            if (!Config.IpPrefix.Covers(net, prefix)) continue;
                            var h = Mtu.PathMtuMeasurer.FirstHost(new[] { prefix });
                            if (h == null) continue;
                            list.Add(new SubnetOverlap { Peer = p.PublicKey, Prefix = prefix, Link = l.Name, LinkAddress = a, LinkNetwork = net, Host = h.ToString() });
                        }
                    }
                }
            return list;
        }

        public void Collect(CollectContext ctx)
        {
            var wanted = ctx.Snapshot.Interfaces.SelectMany(i => Overlaps(ctx.Snapshot, i)).Select(o => o.Host).Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(h => ctx.Snapshot.Routes.Lookup(h) == null).Take(MaxLookups).ToList();
            if (wanted.Count == 0) { ctx.Report(Name, null, SourceState.Ok, message: "No AllowedIPs prefix lies inside a local network."); return; }
            if (!ctx.Runner.IsAvailable("ip"))
            {
                ctx.Report(Name, null, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "ip is not installed: the routes to the remote hosts were not looked up. " + NativeRunner.InstallHint("ip"));
                return;
            }
            foreach (var h in wanted)
            {
                var r = ctx.Runner.Run("ip", new[] { h.IndexOf(':') >= 0 ? "-6" : "-4", "route", "get", h });
                var a = PathFaults.RouteAnswer.Parse(h, r.ExitCode, r.StdOut, r.StdErr);
                ctx.Snapshot.Routes.Lookups.Add(new RouteLookup
                {
                    Destination = h, Reachable = a.Error == null, Device = a.Device, Via = a.Via, Source = a.Source, Text = a.Text,
                });
            }
        }
    }
}
