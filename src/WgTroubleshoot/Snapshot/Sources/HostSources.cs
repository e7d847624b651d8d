using System;
using System.Globalization;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Snapshot.Sources
{
    /// <summary>Kernel parameters from /proc/sys (forwarding, rp_filter, src_valid_mark) and their persistent settings.</summary>
    public sealed class SysctlSource : ISnapshotSource
    {
        private readonly SysctlSettings _settings;

        /// <param name="settings">Where the files and /proc/sys are (tests point them elsewhere); the real ones when null.</param>
        public SysctlSource(SysctlSettings settings = null) { _settings = settings; }

        public string Name => SourceNames.Sysctls;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        /// <summary>Keys read for the host; rp_filter is also read for every link.</summary>
        public static readonly string[] Keys =
        {
            "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.src_valid_mark",
            "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
        };

        public static readonly string[] PersistentKeys = { "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter" };

        public void Collect(CollectContext ctx)
        {
            var s = _settings ?? new SysctlSettings();
            var st = ctx.Snapshot.Sysctls;
            var keys = Keys.Concat(ctx.Snapshot.Links.Where(l => l.Name.IndexOf('.') < 0).Select(l => $"net.ipv4.conf.{l.Name}.rp_filter"));
            foreach (var k in keys)
            {
                var v = s.ReadRuntime(k);
                if (v != null) st.Runtime[k] = v;
            }
            foreach (var k in PersistentKeys)
            {
                var p = s.ReadPersistent(k);
                if (p != null) st.Persistent[k] = p;
            }
            if (!st.Runtime.ContainsKey("net.ipv4.ip_forward"))
                ctx.Report(Name, null, Changes.Privilege.IsLinux ? SourceState.Failed : SourceState.Unavailable, ErrorIds.ToolFailed,
                    $"{s.ProcSys}/net/ipv4/ip_forward could not be read: the kernel parameters are unknown.");
        }
    }

    /// <summary>Resolves each configured endpoint host name once (in parallel, bounded in time).</summary>
    public sealed class NameSource : ISnapshotSource
    {
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

        /// <summary>Resolves names; tests and replays replace it.</summary>
        internal static Func<string, IPAddress[]> Resolve { get; set; } = host => Dns.GetHostAddressesAsync(host).GetAwaiter().GetResult();

        public string Name => SourceNames.Names;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            var hosts = ctx.Snapshot.Interfaces.Where(i => i.Config != null).SelectMany(i => i.Config.Peers)
                .Select(p => p.EndpointHost).Where(EndpointChecker.IsHostName)
                .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (hosts.Count == 0) return;
            ctx.Progress("Endpoints and their DNS names", 40);
            var tasks = hosts.Select(h => Task.Run(() => ResolveOne(h))).ToArray();
            var deadline = Stopwatch.StartNew();
            foreach (var t in tasks)
            {
                var left = Timeout - deadline.Elapsed;
                t.Wait(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            for (int i = 0; i < hosts.Count; i++)
                ctx.Snapshot.Names.Add(tasks[i].IsCompleted ? tasks[i].Result
                    : new NameResolution { Host = hosts[i], Error = $"no answer within {Timeout.TotalSeconds:0} s", ElapsedMilliseconds = Timeout.TotalMilliseconds });
        }

        private static NameResolution ResolveOne(string host)
        {
            var sw = Stopwatch.StartNew();
            var n = new NameResolution { Host = host };
            try
            {
                n.Addresses = (Resolve(host) ?? new IPAddress[0]).Select(a => a.ToString()).Distinct().ToArray();
            }
            catch (Exception ex) when (ex is SocketException || ex is AggregateException || ex is ArgumentException)
            {
                n.Error = (ex as AggregateException)?.InnerException?.Message ?? ex.Message;
            }
            n.ElapsedMilliseconds = Math.Round(sw.Elapsed.TotalMilliseconds, 1);
            return n;
        }
    }

    /// <summary>
    /// Default routes and the route to every live endpoint and every resolved name: one `ip -batch` for all
    /// of them (no process per peer), bounded to <see cref="MaxLookups"/> addresses.
    /// </summary>
    public sealed class RouteSource : ISnapshotSource
    {
        public const int MaxLookups = 20000;

        public string Name => SourceNames.Routes;
        public SnapshotStage Stage => SnapshotStage.DuringSample;

        public void Collect(CollectContext ctx)
        {
            var r = ctx.Runner;
            if (!r.IsAvailable("ip"))
            {
                ctx.Report(Name, null, SourceState.Unavailable, ErrorIds.ToolNotInstalled, "ip is not installed: " + NativeRunner.InstallHint("ip"));
                return;
            }
            var routes = ctx.Snapshot.Routes;
            var v4 = NativeRunner.RunChecked(r, "Reading the default route", "ip", new[] { "-4", "route", "show", "default" });
            routes.DefaultText = v4.StdOut.Trim();
            routes.DefaultDevice = ForwardingReader.ParseDefaultRouteDevice(v4.StdOut);
            var v6 = r.Run("ip", new[] { "-6", "route", "show", "default" });
            if (v6.Success)
            {
                routes.DefaultText6 = v6.StdOut.Trim();
                routes.DefaultDevice6 = ForwardingReader.ParseDefaultRouteDevice(v6.StdOut);
            }

            var wanted = new List<string>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            void Want(string a) { if (a != null && wanted.Count < MaxLookups && IPAddress.TryParse(a, out _) && seen.Add(a)) wanted.Add(a); }
            foreach (var n in ctx.Snapshot.Names) foreach (var a in n.Addresses) Want(a);
            foreach (var i in ctx.Snapshot.Interfaces)
                if (i.First != null)
                    foreach (var p in i.First.Peers) Want(EndpointChecker.ParseEndpointAddress(p.Endpoint, out _)?.ToString());
            if (wanted.Count == 0) return;
            var batch = string.Join("\n", wanted.Select(a => "route get " + a)) + "\n";
            var res = r.Run("ip", new[] { "-force", "-batch", "-" }, TimeSpan.FromSeconds(30), batch);
            var found = Parse(res.StdOut);
            var errors = ParseErrors(res.StdErr);
            for (int n = 0; n < wanted.Count; n++)
            {
                var a = wanted[n];
                var key = IPAddress.Parse(a).ToString();
                routes.Lookups.Add(found.TryGetValue(key, out var l) ? l
                    : new RouteLookup { Destination = a, Reachable = false, Text = errors.TryGetValue(n + 1, out var e) ? e : "no route" });
            }
        }

        /// <summary>
        /// The kernel's answer for each failed line of an `ip -force -batch` run: "RTNETLINK answers: X" followed by
        /// "Command failed -:N"; the answer is given with what it means for a route lookup (a blackhole, unreachable
        /// or prohibit route, or no route at all).
        /// </summary>
        internal static Dictionary<int, string> ParseErrors(string stderr)
        {
            var d = new Dictionary<int, string>();
            string last = null;
            foreach (var raw in (stderr ?? "").Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0) continue;
                const string failed = "Command failed -:";
                if (line.StartsWith(failed, StringComparison.Ordinal))
                {
                    if (int.TryParse(line.Substring(failed.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && !d.ContainsKey(n))
                        d[n] = Describe(last);
                    last = null;
                }
                else last = line.Length > 200 ? line.Substring(0, 200) : line;
            }
            return d;
        }

        private static string Describe(string answer)
        {
            if (string.IsNullOrEmpty(answer)) return "no route";
            if (answer.EndsWith("Invalid argument", StringComparison.Ordinal)) return answer + " (a blackhole route)";
            if (answer.EndsWith("No route to host", StringComparison.Ordinal)) return answer + " (an unreachable route)";
            if (answer.EndsWith("Permission denied", StringComparison.Ordinal)) return answer + " (a prohibit route or rule)";
            if (answer.EndsWith("Network is unreachable", StringComparison.Ordinal)) return answer + " (no route)";
            return answer;
        }

        /// <summary>Parses `ip route get` lines: "203.0.113.7 via 192.0.2.1 dev eth0 table 51820 src 192.0.2.5 uid 0".</summary>
        internal static Dictionary<string, RouteLookup> Parse(string text)
        {
            var d = new Dictionary<string, RouteLookup>(StringComparer.OrdinalIgnoreCase);
            foreach (var raw in (text ?? "").Split('\n'))
            {
                if (raw.Length == 0 || char.IsWhiteSpace(raw[0])) continue;
                var t = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                int start = t.Length > 1 && (t[0] == "local" || t[0] == "unicast" || t[0] == "broadcast" || t[0] == "multicast") ? 1 : 0;
                if (t.Length <= start || !IPAddress.TryParse(t[start], out var dest)) continue;
                var l = new RouteLookup { Destination = dest.ToString(), Reachable = true, Text = raw.Trim() };
                for (int i = start + 1; i + 1 < t.Length; i++)
                {
                    if (t[i] == "dev") l.Device = t[i + 1];
                    else if (t[i] == "via") l.Via = t[i + 1];
                    else if (t[i] == "src") l.Source = t[i + 1];
                    else if (t[i] == "table") l.Table = t[i + 1];
                }
                if (!d.ContainsKey(l.Destination)) d.Add(l.Destination, l);
            }
            return d;
        }
    }
}
