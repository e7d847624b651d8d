using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Lint;
using WgTroubleshoot.Liveness;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;
using WgTroubleshoot.Trace;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>What Invoke-WgDiagnosis was asked to look at.</summary>
    public sealed class DiagnosisOptions
    {
        /// <summary>Interface names (wildcards allowed); all interfaces when null.</summary>
        public string[] Interfaces { get; set; }
        /// <summary>The other end's configuration, for the both-ends comparison.</summary>
        public string PeerConfigPath { get; set; }
        /// <summary>Adds the path-MTU probe and longer captures.</summary>
        public bool Deep { get; set; }
        public int SampleSeconds { get; set; } = 3;
        public int TraceSeconds { get; set; } = 6;
        /// <summary>Sends a liveness probe into the tunnel for peers whose counters do not prove two-way traffic.</summary>
        public bool Probe { get; set; } = true;
    }

    /// <summary>
    /// The field guide's decision tree as code: for each interface it checks, in the order that finds root
    /// causes first, the link, the configuration, the handshake, the local firewall, the traffic on the wire,
    /// keys and AllowedIPs (both ends when the other side's config is given), the endpoint and its DNS name,
    /// forwarding and NAT, and the MTU. Every check is bounded in time; nothing is changed.
    /// </summary>
    public sealed class DiagnosisEngine
    {
        private readonly INativeRunner _runner;
        private readonly Action<string> _verbose;
        private readonly Action<string, int> _progress;
        private readonly CancellationToken _cancel;

        /// <summary>Extra checks that other parts of the module add (forwarding and NAT, MTU).</summary>
        public static readonly List<Action<DiagnosisContext>> ExtraChecks = new List<Action<DiagnosisContext>>();

        public DiagnosisEngine(INativeRunner runner, Action<string> verbose = null, Action<string, int> progress = null, CancellationToken cancel = default(CancellationToken))
        {
            _runner = runner;
            _verbose = verbose ?? (_ => { });
            _progress = progress ?? ((_, __) => { });
            _cancel = cancel;
        }

        /// <summary>Runs every check and returns the findings, most severe first.</summary>
        public List<Finding> Run(DiagnosisOptions options, Action<WgException> notFound)
        {
            var reader = new WgStateReader(_runner);
            _progress("Reading live WireGuard state", 0);
            var devices = reader.Read(options.Interfaces, notFound);
            reader.AddLinkDetails(devices);
            var findings = new List<Finding>();
            var firewall = new Lazy<FirewallSnapshot>(() => FirewallSnapshot.Read(_runner, _verbose));
            for (int i = 0; i < devices.Count && !_cancel.IsCancellationRequested; i++)
            {
                var ctx = new DiagnosisContext(devices[i], options, _runner, _verbose, firewall);
                int basePct = i * 100 / Math.Max(1, devices.Count);
                int span = 100 / Math.Max(1, devices.Count);
                Step(ctx, basePct, span);
                findings.AddRange(ctx.Findings);
            }
            _progress("Done", 100);
            return Sort(findings);
        }

        /// <summary>Most severe first; within a severity, the order the decision tree found them in (root causes first).</summary>
        public static List<Finding> Sort(IEnumerable<Finding> findings)
            => findings.Select((f, n) => new { f, n })
                       .OrderByDescending(x => Rank(x.f.Severity))
                       .ThenBy(x => x.n)
                       .Select(x => x.f).ToList();

        public static int Rank(string severity)
            => Enum.TryParse<Severity>(severity, true, out var s) ? (int)s : -1;

        private void Step(DiagnosisContext ctx, int basePct, int span)
        {
            var name = ctx.Device.Interface.Name;
            void P(string what, int part) => _progress($"{name}: {what}", basePct + span * part / 100);

            P("link and configuration", 5);
            CheckLink(ctx);
            CheckConfig(ctx);
            if (ctx.LinkDown) { Summarize(ctx); return; }

            P($"sampling handshakes and counters ({ctx.Options.SampleSeconds} s)", 15);
            CheckHandshakes(ctx);
            if (_cancel.IsCancellationRequested) return;

            P("local firewall", 40);
            CheckFirewall(ctx);

            if (NeedsTrace(ctx))
            {
                P($"capturing traffic on the wire ({ctx.TraceSeconds} s)", 50);
                CheckTraffic(ctx);
            }
            if (_cancel.IsCancellationRequested) return;

            P("routes, ports and peers' AllowedIPs", 65);
            CheckPeerFacts(ctx);

            P("endpoints and their DNS names", 70);
            CheckEndpoints(ctx);
            CheckLiveness(ctx);

            P("keys and AllowedIPs", 75);
            CheckPeers(ctx);
            CheckBothEnds(ctx);

            P("forwarding and NAT", 80);
            CheckForwarding(ctx);
            P("MTU" + (ctx.Options.Deep ? " (probing the path)" : ""), 85);
            CheckMtu(ctx);
            foreach (var extra in ExtraChecks)
            {
                if (_cancel.IsCancellationRequested) return;
                try { extra(ctx); }
                catch (WgException ex) { ctx.Note($"A check could not run: {ex.Message}"); }
            }
            Summarize(ctx);
        }

        private static void CheckLink(DiagnosisContext ctx)
        {
            var i = ctx.Device.Interface;
            if (i.IsUp) return;
            ctx.LinkDown = true;
            ctx.Add(new Finding
            {
                Id = "WGD100", Severity = "Error", Cause = nameof(Cause.InterfaceDown),
                Summary = $"{i.Name} is administratively down: nothing passes through it.",
                Evidence = new[] { $"ip link: {i.Name} state {i.LinkState ?? "unknown"}, MTU {i.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "?"}" },
                Remediation = $"Repair-WgIssue brings it up (ip link set dev {i.Name} up).",
                CanRepair = true,
                RepairData = new[] { "Interface=" + i.Name },
            });
        }

        private void CheckConfig(DiagnosisContext ctx)
        {
            var path = WgConfigLocation.PathForConfigOrNull(ctx.Device.Interface.Name);
            if (path == null || !File.Exists(path))
            {
                ctx.Note($"No configuration file {path}: configuration checks skipped.");
                return;
            }
            ctx.ConfigPath = path;
            try
            {
                ctx.Lint = LintFile.Read(path);
                ctx.Config = ctx.Lint.Config;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is WgException)
            {
                ctx.Note($"{path} could not be read: {ex.Message}");
                return;
            }
            foreach (var f in ConfigLinter.LintOne(ctx.Lint))
            {
                var cause = f.Cause == nameof(Cause.None) ? nameof(Cause.ConfigError) : f.Cause;
                ctx.Add(new Finding
                {
                    Id = f.Id, Severity = f.Severity, Cause = cause, Peer = f.Peer,
                    Summary = f.Message,
                    Evidence = new[] { $"{f.File}{(f.Line.HasValue ? ":" + f.Line.Value.ToString(CultureInfo.InvariantCulture) : "")}" },
                    Remediation = f.Fix,
                    CanRepair = false,
                });
            }
        }

        private void CheckHandshakes(DiagnosisContext ctx)
        {
            var reader = new WgStateReader(_runner);
            var first = ctx.Device;
            WgStateReader.AddPeerNames(first);
            var before = first.Peers.ToDictionary(p => p.PublicKey, p => p);
            var second = first;
            PeerFacts.AddSample(ctx.EndpointSamples, first.Peers);
            var sampleStart = DateTime.UtcNow;
            if (ctx.Options.SampleSeconds > 0)
            {
                // The endpoints are read once a second meanwhile: one key whose endpoint flips back and forth is two devices.
                for (int s = 1; s < ctx.Options.SampleSeconds && !_cancel.IsCancellationRequested; s++)
                {
                    _cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                    var mid = reader.Read(new[] { first.Interface.Name }, _ => { });
                    if (mid.Count == 1) PeerFacts.AddSample(ctx.EndpointSamples, mid[0].Peers);
                }
                _cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                var again = reader.Read(new[] { first.Interface.Name }, _ => { });
                if (again.Count == 1) PeerFacts.AddSample(ctx.EndpointSamples, again[0].Peers);
                if (again.Count == 1)
                {
                    second = again[0];
                    WgStateReader.AddPeerNames(second);
                    // The link details were read once, with the first sample.
                    var a = second.Interface; var b = first.Interface;
                    a.Mtu = b.Mtu; a.Addresses = b.Addresses; a.IsUp = b.IsUp; a.LinkState = b.LinkState; a.ConfigPath = b.ConfigPath;
                }
            }
            ctx.Device = second;
            foreach (var p in second.Peers)
            {
                before.TryGetValue(p.PublicKey, out var b);
                ctx.Handshakes[p.PublicKey] = HandshakeEvaluator.Evaluate(ctx.Options.SampleSeconds > 0 ? b : null, p, ctx.Options.SampleSeconds);
            }
            ProbeLiveness(ctx, reader);
            ctx.EndpointSampleSeconds = (DateTime.UtcNow - sampleStart).TotalSeconds;
        }

        /// <summary>
        /// "Healthy" must be proven: for each peer with a fresh handshake whose two samples do not show traffic in
        /// both directions, one packet goes into the tunnel towards its AllowedIPs and its receive counter is
        /// watched (TunnelProbe). One-way is only ever concluded from a probe that got no answer, never from a
        /// lone keepalive.
        /// </summary>
        private void ProbeLiveness(DiagnosisContext ctx, WgStateReader reader)
        {
            var iface = ctx.Device.Interface.Name;
            var need = new List<WgPeer>();
            foreach (var p in ctx.Device.Peers)
            {
                if (!ctx.Handshakes.TryGetValue(p.PublicKey, out var h) || h.Status != nameof(HandshakeStatus.Healthy)) continue;
                if (ctx.Options.SampleSeconds > 0 && TunnelProbe.TwoWayProven(h.TxDelta, h.RxDelta))
                {
                    h.OneWay = false;
                    h.Reason += $" Two-way traffic now: {h.TxDelta} bytes sent and {h.RxDelta} received in the sample.";
                    continue;
                }
                // Without a probe, one-way is not concluded from the counters alone (a keepalive is never answered).
                h.OneWay = false;
                int but = h.Reason.IndexOf(" But ", StringComparison.Ordinal);
                if (but > 0) h.Reason = h.Reason.Substring(0, but) + $" {h.TxDelta} bytes sent and {h.RxDelta} received in the sample: not proof of two-way traffic.";
                need.Add(p);
            }
            if (need.Count == 0 || !ctx.Options.Probe) return;
            var probe = new TunnelProbe(_runner, name =>
            {
                var d = reader.Read(new[] { name }, _ => { });
                if (d.Count != 1) return null;
                PeerFacts.AddSample(ctx.EndpointSamples, d[0].Peers);
                return d[0].Peers.ToDictionary(x => x.PublicKey, x => new PeerCounters(x.RxBytes, x.TxBytes, x.Endpoint), StringComparer.Ordinal);
            }, _verbose);
            _progress($"{iface}: liveness probe of {need.Count} peer{(need.Count == 1 ? "" : "s")} (up to {TunnelProbe.DefaultWait.TotalSeconds:0} s)", 30);
            foreach (var r in probe.Run(iface, need, ctx.Device.Interface.Addresses, _cancel))
            {
                ctx.Probes[r.Peer] = r;
                var h = ctx.Handshakes[r.Peer];
                h.Reason += " " + r.Evidence;
                if (r.WasSent && !r.Answered) h.OneWay = true;
                _verbose(r.Evidence);
            }
        }

        private PeerFacts BuildPeerFacts(DiagnosisContext ctx)
        {
            var d = ctx.Device;
            var f = new PeerFacts
            {
                Interface = d.Interface.Name,
                IsServer = ctx.IsServer,
                FwMark = d.Interface.FwMark,
                LiveListenPort = d.Interface.ListenPort,
                ConfiguredListenPort = ctx.Config?.ListenPort,
                HasConfig = ctx.Config != null,
                ConfiguredDns = ctx.Config?.Dns ?? new string[0],
                LivePeers = d.Peers.ToList(),
                Handshakes = ctx.Handshakes,
                Probes = ctx.Probes,
                EndpointSamples = ctx.EndpointSamples,
                EndpointSampleSeconds = ctx.EndpointSampleSeconds,
            };
            if (ctx.Config != null)
                foreach (var cp in ctx.Config.Peers)
                    f.ConfiguredPeers.Add(new ConfiguredPeer { PublicKey = cp.PublicKey, Name = cp.Name, AllowedIPs = cp.AllowedIPs, Endpoint = cp.Endpoint, EndpointHost = EndpointChecker.IsHostName(cp.EndpointHost) ? cp.EndpointHost : null });
            return f;
        }

        private void CheckPeerFacts(DiagnosisContext ctx)
        {
            var f = BuildPeerFacts(ctx);
            try { new PeerFactsCollector(_runner).Collect(f); }
            catch (WgException ex) { ctx.Note("Routes, sockets or resolvers could not be read: " + ex.Message); }
            ctx.PeerFacts = f;
            foreach (var finding in PeerCheckCatalog.Run(f, ctx.ExplainedPeers))
            {
                if (finding.Cause == nameof(Cause.AllowedIpsConflict)) MergeLintDuplicate(ctx, finding);
                ctx.Add(finding);
            }
        }

        /// <summary>
        /// The configuration lint sees the same two peers claiming one prefix in the file: that finding joins the
        /// live one (one fault, one finding, the live evidence first).
        /// </summary>
        private static void MergeLintDuplicate(DiagnosisContext ctx, Finding conflict)
        {
            var prefix = conflict.Summary.Split(' ')[0];
            var dup = ctx.Findings.Where(x => x.Cause == nameof(Cause.AllowedIpsMismatch) && !x.Id.StartsWith("WGD", StringComparison.Ordinal)
                                              && x.Summary.IndexOf(prefix, StringComparison.Ordinal) >= 0).ToList();
            foreach (var d in dup)
            {
                ctx.Findings.Remove(d);
                conflict.Evidence = conflict.Evidence.Concat(new[] { $"The configuration says so too ({d.Id}, {string.Join(", ", d.Evidence)}): {d.Summary}" }).ToArray();
            }
        }

        private void CheckLiveness(DiagnosisContext ctx)
        {
            if (ctx.PeerFacts == null) return;
            var explained = new HashSet<string>(ctx.ExplainedPeers.Concat(ctx.StaleEndpointPeers), StringComparer.Ordinal);
            foreach (var finding in new LivenessCheck().Judge(ctx.PeerFacts, explained)) ctx.Add(finding);
            foreach (var p in explained) ctx.ExplainedPeers.Add(p);
        }

        private void CheckFirewall(DiagnosisContext ctx)
        {
            var port = ctx.Device.Interface.ListenPort;
            if (!port.HasValue) return;
            var snap = ctx.Firewall.Value;
            if (snap == null) return;
            var q = new FirewallQuery { Port = port.Value, Interface = ctx.Device.Interface.Name, Underlay = snap.Underlay };
            foreach (var st in FirewallStatusBuilder.Build(snap.Snapshots, q))
            {
                ctx.FirewallStatuses.Add(st);
                if (st.Verdict != FirewallVerdict.Blocked) continue;
                bool hurts = ctx.IsServer || ctx.Handshakes.Values.Any(h => h.Status != nameof(HandshakeStatus.Healthy) && h.Status != nameof(HandshakeStatus.Idle));
                bool tcpOnly = st.TcpOnlyRule != null;
                ctx.FirewallBlocks = true;
                ctx.Add(new Finding
                {
                    Id = tcpOnly ? "WGD201" : "WGD200",
                    Severity = hurts ? "Error" : "Warning",
                    Cause = tcpOnly ? nameof(Cause.TcpOnlyFirewallRule) : nameof(Cause.FirewallBlocksPort),
                    Summary = tcpOnly
                        ? $"{st.Backend} allows TCP {port} but not UDP {port}: WireGuard is UDP only, so handshakes never arrive."
                        : $"{st.Backend} drops inbound UDP {port}, WireGuard's listen port on {q.Interface}.",
                    Evidence = new[] { $"{st.Backend}: UDP {port} {st.Verdict} by: {st.DecidingRule}" }
                        .Concat(tcpOnly ? new[] { $"TCP rule for the port: {st.TcpOnlyRule}" } : new string[0])
                        .Concat(hurts ? new string[0] : new[] { "Every peer is healthy or idle now: replies to this side's own handshakes pass connection tracking, but a peer that starts the handshake is dropped." })
                        .ToArray(),
                    Remediation = $"Add-WgFirewallRule -Interface {q.Interface}" + (st.Backend == "nftables" || st.Backend.StartsWith("ip", StringComparison.Ordinal) ? $" -Backend {st.Backend}" : ""),
                    CanRepair = true,
                    RepairData = new[] { "Interface=" + q.Interface, "Port=" + port.Value.ToString(CultureInfo.InvariantCulture), "Backend=" + st.Backend },
                });
            }
        }

        private static bool NeedsTrace(DiagnosisContext ctx)
        {
            if (!ctx.Device.Interface.ListenPort.HasValue || !Privilege.IsLinux || !Privilege.IsElevated()) return false;
            return ctx.Handshakes.Values.Any(h => h.Status == nameof(HandshakeStatus.Stale) || h.Status == nameof(HandshakeStatus.NeverEstablished)
                                                  || (ctx.IsServer && h.Status == nameof(HandshakeStatus.AwaitingPeer)));
        }

        private void CheckTraffic(DiagnosisContext ctx)
        {
            if (!_runner.IsAvailable("tcpdump"))
            {
                ctx.Note("tcpdump is not installed: the traffic on the wire was not looked at. " + NativeRunner.InstallHint("tcpdump"));
                return;
            }
            var iface = ctx.Device.Interface;
            var peers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in ctx.Device.Peers)
                if (!string.IsNullOrEmpty(p.Endpoint) && !peers.ContainsKey(p.Endpoint)) peers.Add(p.Endpoint, p.PublicKey);
            var tracer = new TrafficTracer(iface.Name, iface.ListenPort.Value, peers);
            try
            {
                ctx.Traces.AddRange(new TrafficCapture(_runner).Run(tracer, TimeSpan.FromSeconds(ctx.TraceSeconds), _cancel, (e, n) => { }, pid => _verbose($"tcpdump runs as PID {pid}.")));
            }
            catch (WgException ex)
            {
                ctx.Note("The capture failed: " + ex.Message);
                return;
            }
            foreach (var t in ctx.Traces.Where(t => t.RemoteEndpoint != null && t.Verdict == nameof(TrafficVerdict.InitiationsUnanswered) && t.InitiationsIn > 0))
            {
                if (ctx.FirewallBlocks)
                {
                    foreach (var f in ctx.Findings.Where(x => x.Cause == nameof(Cause.FirewallBlocksPort) || x.Cause == nameof(Cause.TcpOnlyFirewallRule)))
                        f.Evidence = f.Evidence.Concat(new[] { $"On the wire: {t.InitiationsIn} handshake initiations from {t.RemoteEndpoint} arrived in {ctx.TraceSeconds} s and none was answered." }).ToArray();
                    continue;
                }
                var known = t.Peer != null ? ctx.Device.Peers.FirstOrDefault(p => p.PublicKey == t.Peer) : null;
                ctx.Add(new Finding
                {
                    Id = "WGD400", Severity = "Error", Cause = nameof(Cause.KeyMismatch),
                    Peer = t.Peer, PeerName = known?.Name,
                    Summary = $"Handshake initiations from {t.RemoteEndpoint} reach {iface.Name} and are not answered, and no local firewall drops them: WireGuard does not accept the initiator's key.",
                    Evidence = new[]
                    {
                        $"tcpdump, {ctx.TraceSeconds} s on UDP {iface.ListenPort}: {t.InitiationsIn} initiations in, {t.ResponsesOut} responses out, {t.DataIn} data packets in.",
                        "The host firewall allows the port (" + string.Join("; ", ctx.FirewallStatuses.Select(s => s.Backend + " " + s.Verdict)) + ").",
                        "The initiator's public key is not any [Peer] PublicKey of this interface, or this interface's public key is not the one the initiator has.",
                    },
                    Remediation = $"Compare both ends: Compare-WgPeerConfig -Path {ctx.ConfigPath ?? "<this.conf>"}, <other-side.conf>; then put the client's real public key (wg pubkey < its private key) in this side's [Peer] PublicKey.",
                    CanRepair = false,
                });
            }
        }

        private void CheckEndpoints(DiagnosisContext ctx)
        {
            if (ctx.Config == null) return;
            var checker = new EndpointChecker(h => EndpointChecker.SystemResolve(h, TimeSpan.FromSeconds(5)), a => EndpointChecker.HasRoute(_runner, a));
            foreach (var cp in ctx.Config.Peers.Where(p => EndpointChecker.IsHostName(p.EndpointHost)))
            {
                var live = ctx.Device.Peers.FirstOrDefault(p => p.PublicKey == cp.PublicKey);
                if (live == null) continue;
                var s = checker.Check(ctx.Config, cp, live);
                ctx.Endpoints[cp.PublicKey] = s;
                if (s.AddressFamilyWarning != null && !ctx.ExplainedPeers.Contains(cp.PublicKey))
                    ctx.Add(new Finding
                    {
                        Id = "WGD302", Severity = "Warning", Cause = nameof(Cause.AddressFamilyMismatch), Peer = cp.PublicKey, PeerName = cp.Name,
                        Summary = s.AddressFamilyWarning, Evidence = new[] { "Resolved: " + string.Join(", ", s.ResolvedAddresses) },
                        Remediation = "Publish both A and AAAA records, or use a host name of the family this host can reach.",
                    });
                if (s.Status != nameof(EndpointState.Drifted)) continue;
                ctx.Handshakes.TryGetValue(cp.PublicKey, out var hs);
                // A fresh handshake proves nothing about the last two minutes: the probe decides.
                bool broken = hs == null || hs.Status != nameof(HandshakeStatus.Healthy) || hs.OneWay;
                ctx.StaleEndpointPeers.Add(cp.PublicKey);
                ctx.Add(new Finding
                {
                    Id = "WGD301", Severity = broken ? "Error" : "Info", Cause = nameof(Cause.StaleEndpoint), Peer = cp.PublicKey, PeerName = cp.Name,
                    Summary = $"'{cp.EndpointHost}' now resolves to {string.Join(", ", s.ResolvedAddresses)}, but WireGuard still sends to {s.LiveEndpoint ?? "(none)"}: the dynamic-DNS address changed and WireGuard never re-resolves it.",
                    Evidence = new[] { s.Reason, hs != null ? "Handshake: " + hs.Reason : "No handshake data." },
                    Remediation = $"Update-WgEndpoint -Interface {ctx.Device.Interface.Name} -PublicKey {cp.PublicKey}" + (broken ? "" : " -Force"),
                    CanRepair = true,
                    RepairData = new[] { "Interface=" + ctx.Device.Interface.Name, "PublicKey=" + cp.PublicKey },
                });
            }
        }

        private void CheckPeers(DiagnosisContext ctx)
        {
            foreach (var h in ctx.Handshakes.Values)
            {
                if (ctx.StaleEndpointPeers.Contains(h.Peer) || ctx.ExplainedPeers.Contains(h.Peer)) continue;
                var trace = ctx.Traces.FirstOrDefault(t => t.Peer == h.Peer || (h.Endpoint != null && t.RemoteEndpoint == h.Endpoint));
                if (h.Status == nameof(HandshakeStatus.NeverEstablished) || h.Status == nameof(HandshakeStatus.Stale))
                {
                    if (ctx.IsServer && ctx.FirewallBlocks) continue; // the firewall finding explains it
                    var evidence = new List<string> { "Handshake: " + h.Reason };
                    if (trace != null)
                        evidence.Add($"On the wire ({ctx.TraceSeconds} s): {trace.InitiationsOut} initiations out, {trace.ResponsesIn} responses in, {trace.DataIn} data in, {trace.DataOut} data out.");
                    if (trace != null && trace.ResponsesIn > 0 && trace.DataIn == 0)
                    {
                        ctx.Add(new Finding
                        {
                            Id = "WGD401", Severity = "Error", Cause = nameof(Cause.PresharedKeyMismatch), Peer = h.Peer, PeerName = h.Name,
                            Summary = $"{h.Endpoint} answers the handshake, yet no session forms: the preshared keys of the two ends differ.",
                            Evidence = evidence.ToArray(),
                            Remediation = "Set the same PresharedKey on both ends (Compare-WgPeerConfig shows whether they differ, never the key).",
                        });
                        continue;
                    }
                    ctx.Add(new Finding
                    {
                        Id = "WGD300", Severity = "Error", Cause = nameof(Cause.EndpointUnreachable), Peer = h.Peer, PeerName = h.Name,
                        Summary = $"The peer at {h.Endpoint ?? "(no endpoint)"} does not answer this side's handshakes.",
                        Evidence = evidence.Concat(new[] { "Nothing comes back: the endpoint address or port is wrong, the other side's firewall or an upstream (cloud) filter drops UDP, or the other side does not have this side's public key." }).ToArray(),
                        Remediation = $"Check the Endpoint (Get-WgConfig -Interface {ctx.Device.Interface.Name}) against the server's address and ListenPort; on the server run Invoke-WgDiagnosis (firewall, trace), and Compare-WgPeerConfig on both files.",
                    });
                }
                else if (h.Status == nameof(HandshakeStatus.Healthy) && h.OneWay && !ctx.Probes.ContainsKey(h.Peer))
                {
                    ctx.Add(new Finding
                    {
                        Id = "WGD410", Severity = "Warning", Cause = nameof(Cause.AllowedIpsMismatch), Peer = h.Peer, PeerName = h.Name,
                        Summary = $"Traffic to {h.Name ?? h.Peer} goes out and nothing comes back, although the handshake is fresh.",
                        Evidence = new[] { h.Reason },
                        Remediation = "The other end drops what it receives: compare AllowedIPs of both ends (Invoke-WgDiagnosis -PeerConfigPath <other.conf>), and check forwarding and NAT on the server.",
                    });
                }
                else if (h.Status == nameof(HandshakeStatus.AwaitingPeer) && ctx.IsServer && !ctx.FirewallBlocks)
                {
                    bool nothing = ctx.Traces.Count > 0 && ctx.Traces.All(t => t.RemoteEndpoint == null);
                    ctx.Add(new Finding
                    {
                        Id = "WGD901", Severity = "Info", Cause = nameof(Cause.UpstreamFilter), Peer = h.Peer, PeerName = h.Name,
                        Summary = $"{h.Name ?? h.Peer} has never connected" + (nothing ? $" and nothing arrived on UDP {ctx.Device.Interface.ListenPort} in {ctx.TraceSeconds} s." : "."),
                        Evidence = new[] { h.Reason, FirewallEvaluator.UpstreamNote },
                        Remediation = "If this client should be connected: check its Endpoint, and the cloud security group or router port forwarding in front of this host.",
                    });
                }
            }
        }

        private void CheckForwarding(DiagnosisContext ctx)
        {
            if (!ctx.IsServer || !Privilege.IsLinux) return;
            ForwardingStatus st;
            try
            {
                var facts = new Forwarding.ForwardingReader(_runner).Read(ctx.Device.Interface.Name, ctx.Device.Interface.Addresses);
                st = Forwarding.ForwardingEvaluator.Evaluate(facts);
            }
            catch (WgException ex)
            {
                ctx.Note("Forwarding and NAT could not be read: " + ex.Message);
                return;
            }
            var name = ctx.Device.Interface.Name;
            var evidence = st.Evidence.Concat(st.Problems).ToArray();
            if (st.IPv4Forwarding == false)
                ctx.Add(new Finding
                {
                    Id = "WGD500", Severity = "Warning", Cause = nameof(Cause.ForwardingDisabled),
                    Summary = $"IP forwarding is off (net.ipv4.ip_forward = 0): clients of {name} reach this host but nothing beyond it.",
                    Evidence = evidence, CanRepair = true, RepairData = new[] { "Interface=" + name },
                });
            else if (st.IPv4ForwardingPersistent == false)
                ctx.Add(new Finding
                {
                    Id = "WGD503", Severity = "Info", Cause = nameof(Cause.ForwardingDisabled),
                    Summary = "IP forwarding is on now but not set persistently: it is off again after the next reboot.",
                    Evidence = evidence, CanRepair = true, RepairData = new[] { "Interface=" + name },
                });
            if (!st.Masquerade && st.Uplink != null && st.TunnelSubnets.Length > 0)
                ctx.Add(new Finding
                {
                    Id = "WGD501", Severity = "Warning", Cause = nameof(Cause.NatMissing),
                    Summary = $"Traffic from {string.Join(", ", st.TunnelSubnets)} is not masqueraded out of the uplink {st.Uplink}: replies from beyond this host never find their way back.",
                    Evidence = evidence, CanRepair = true, RepairData = new[] { "Interface=" + name, "Nat=true" },
                });
            if (st.ForwardBlocked)
                ctx.Add(new Finding
                {
                    Id = "WGD502", Severity = "Warning", Cause = nameof(Cause.ForwardPathBlocked),
                    Summary = $"The forward path drops tunnel traffic: {st.ForwardBlockedBy}.",
                    Evidence = evidence, CanRepair = true, RepairData = new[] { "Interface=" + name, "Nat=true" },
                });
        }

        private void CheckMtu(DiagnosisContext ctx)
        {
            // Only a probe says something definite about the path (wg-quick's own MTU guess never probes): -Deep.
            if (!ctx.Options.Deep) return;
            var iface = ctx.Device.Interface;
            foreach (var peer in ctx.Device.Peers)
            {
                var ep = Mtu.PathMtuMeasurer.EndpointAddress(peer.Endpoint);
                if (ep == null || !iface.Mtu.HasValue) continue;
                if (_cancel.IsCancellationRequested) return;
                PathMtuResult r;
                try
                {
                    var m = new Mtu.PathMtuMeasurer(_runner) { TimeLimit = TimeSpan.FromSeconds(40) };
                    r = m.Measure(ep, iface.Mtu, Mtu.PathMtuMeasurer.FirstHost(peer.AllowedIPs));
                }
                catch (WgException ex)
                {
                    ctx.Note($"The path MTU to {ep} could not be measured: {ex.Message}");
                    continue;
                }
                if (r.FullSizePassesInTunnel == false && r.RecommendedMtu.HasValue && r.RecommendedMtu.Value < iface.Mtu.Value)
                    ctx.Add(new Finding
                    {
                        Id = "WGD600", Severity = "Error", Cause = nameof(Cause.MtuBlackhole), Peer = peer.PublicKey,
                        Summary = $"Full-size packets ({iface.Mtu} bytes) do not pass through the tunnel: the path to {ep} carries only {r.PathMtu} bytes{(r.Blackhole ? " and drops bigger packets without a \"fragmentation needed\" answer (a blackhole)" : "")}.",
                        Evidence = r.Evidence.Concat(new[] { $"Path MTU {r.PathMtu}, route MTU {r.RouteMtu}, tunnel MTU {iface.Mtu}, recommended {r.RecommendedMtu} (path minus {Mtu.PathMtuMeasurer.Overhead(ep)} bytes of WireGuard overhead)." }).ToArray(),
                        CanRepair = true,
                        RepairData = new[] { "Interface=" + iface.Name, "Mtu=" + r.RecommendedMtu.Value.ToString(CultureInfo.InvariantCulture) },
                    });
            }
        }

        private static void CheckBothEnds(DiagnosisContext ctx)
        {
            var other = ctx.Options.PeerConfigPath;
            if (string.IsNullOrEmpty(other) || ctx.Lint == null) return;
            LintFile otherFile;
            try
            {
                otherFile = LintFile.Read(other);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is WgException)
            {
                ctx.Note($"The other side's configuration {other} could not be read: {ex.Message}");
                return;
            }
            foreach (var f in PeerConfigComparer.Compare(ctx.Lint, otherFile))
                ctx.Add(new Finding
                {
                    Id = f.Id, Severity = f.Severity, Cause = f.Cause == nameof(Cause.None) ? nameof(Cause.ConfigError) : f.Cause,
                    Peer = f.Peer, Summary = f.Message,
                    Evidence = new[] { $"{f.File}{(f.Line.HasValue ? ":" + f.Line.Value.ToString(CultureInfo.InvariantCulture) : "")} compared with {(f.File == ctx.ConfigPath ? other : ctx.ConfigPath)}" },
                    Remediation = f.Fix,
                });
        }

        private static void Summarize(DiagnosisContext ctx)
        {
            var i = ctx.Device.Interface;
            if (ctx.Findings.Any(f => Rank(f.Severity) > (int)Severity.Info)) return;
            var counts = ctx.Handshakes.Values.GroupBy(h => h.Status).Select(g => $"{g.Count()} {g.Key}");
            ctx.Add(new Finding
            {
                Id = "WGD900", Severity = "Info", Cause = nameof(Cause.Healthy),
                Summary = $"{i.Name}: no fault found ({ctx.Handshakes.Count} peer{(ctx.Handshakes.Count == 1 ? "" : "s")}: {string.Join(", ", counts)}).",
                Evidence = ctx.Notes.Concat(ctx.FirewallStatuses.Select(s => $"{s.Backend}: UDP {s.Port} {s.Verdict}")).ToArray(),
            });
        }
    }

    /// <summary>Everything the checks learn about one interface, shared between them.</summary>
    public sealed class DiagnosisContext
    {
        internal DiagnosisContext(WgDevice device, DiagnosisOptions options, INativeRunner runner, Action<string> verbose, Lazy<FirewallSnapshot> firewall)
        {
            Device = device;
            Options = options;
            Runner = runner;
            Verbose = verbose;
            Firewall = firewall;
            TraceSeconds = options.Deep ? Math.Max(options.TraceSeconds, 15) : options.TraceSeconds;
        }

        public WgDevice Device { get; internal set; }
        public DiagnosisOptions Options { get; }
        public INativeRunner Runner { get; }
        public Action<string> Verbose { get; }
        public int TraceSeconds { get; }
        public string ConfigPath { get; internal set; }
        public WgConfig Config { get; internal set; }
        internal LintFile Lint { get; set; }
        internal Lazy<FirewallSnapshot> Firewall { get; }
        public bool LinkDown { get; internal set; }
        public bool FirewallBlocks { get; internal set; }
        public Dictionary<string, HandshakeResult> Handshakes { get; } = new Dictionary<string, HandshakeResult>(StringComparer.Ordinal);
        public Dictionary<string, EndpointStatus> Endpoints { get; } = new Dictionary<string, EndpointStatus>(StringComparer.Ordinal);
        public List<FirewallStatus> FirewallStatuses { get; } = new List<FirewallStatus>();
        public List<TrafficTrace> Traces { get; } = new List<TrafficTrace>();
        internal HashSet<string> StaleEndpointPeers { get; } = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>Peers whose failure a specific check already explained (no EndpointUnreachable for them too).</summary>
        internal HashSet<string> ExplainedPeers { get; } = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>Liveness probes sent during this diagnosis, by public key.</summary>
        public Dictionary<string, ProbeResult> Probes { get; } = new Dictionary<string, ProbeResult>(StringComparer.Ordinal);
        /// <summary>The live endpoint of each peer at every read of the sample.</summary>
        public Dictionary<string, List<string>> EndpointSamples { get; } = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        public double EndpointSampleSeconds { get; internal set; }
        internal PeerFacts PeerFacts { get; set; }
        public List<Finding> Findings { get; } = new List<Finding>();
        public List<string> Notes { get; } = new List<string>();

        /// <summary>
        /// A server waits for clients: it has a ListenPort in its config (or live, when there is no config)
        /// and at least one peer it does not know an endpoint for in its config.
        /// </summary>
        public bool IsServer
        {
            get
            {
                if (Config != null) return Config.ListenPort.HasValue && Config.Peers.Any(p => string.IsNullOrEmpty(p.Endpoint));
                return Device.Peers.Any(p => string.IsNullOrEmpty(p.Endpoint)) && Device.Interface.ListenPort.HasValue;
            }
        }

        public string Role => IsServer ? "Server" : "Client";

        public void Add(Finding f)
        {
            f.Interface = f.Interface ?? Device.Interface.Name;
            f.Role = f.Role ?? Role;
            if (f.CanRepair)
            {
                // The remediation shown is exactly what Repair-WgIssue runs.
                var call = RemediationCall.For(FindingRef.From(f));
                if (call != null) f.Remediation = call.ToString();
            }
            if (f.PeerName == null && f.Peer != null) f.PeerName = Device.Peers.FirstOrDefault(p => p.PublicKey == f.Peer)?.Name;
            Findings.Add(f);
        }

        public void Note(string text)
        {
            Notes.Add(text);
            Verbose?.Invoke(text);
        }
    }

    /// <summary>The host firewall read once per diagnosis run (all interfaces share it).</summary>
    internal sealed class FirewallSnapshot
    {
        public List<BackendSnapshot> Snapshots { get; private set; }
        public IReadOnlyList<string> Underlay { get; private set; }

        public static FirewallSnapshot Read(INativeRunner runner, Action<string> verbose)
        {
            try
            {
                var underlay = new FirewallTargets(runner).Underlay();
                return new FirewallSnapshot { Underlay = underlay, Snapshots = new FirewallInspector(runner).ReadAll(underlay) };
            }
            catch (WgException ex)
            {
                verbose($"The host firewall could not be read: {ex.Message}");
                return null;
            }
        }
    }
}
