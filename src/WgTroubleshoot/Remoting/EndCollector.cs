using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;
using WgTroubleshoot.Trace;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// Collects this end's <see cref="EndFacts"/> and captures its listen port for a remote diagnosis. The
    /// private key of `wg show IF dump` is skipped on the spot; a preshared key is replaced by its keyed hash
    /// (HMAC-SHA256 under a nonce that the asking end chose for this run) before anything else sees it.
    /// </summary>
    public sealed class EndCollector
    {
        public const int MaxPackets = 2000;
        private readonly INativeRunner _runner;

        public EndCollector(INativeRunner runner)
        {
            _runner = runner;
        }

        public EndFacts Collect(string interfaceName, string nonce)
        {
            var f = new EndFacts
            {
                HostName = Environment.MachineName,
                ModuleVersion = typeof(EndCollector).Assembly.GetName().Version?.ToString(),
            };
            Dictionary<string, LinkInfo> links = null;
            try
            {
                links = IpInfo.Read(_runner);
                foreach (var l in links.Values)
                    foreach (var a in l.Addresses)
                        f.LocalAddresses.Add(StripPrefix(a));
            }
            catch (WgException ex)
            {
                f.Problems.Add("links and addresses: " + ex.Message);
            }
            string wg = WgStateReader.WgTool;
            List<string> names;
            if (!string.IsNullOrEmpty(interfaceName)) names = new List<string> { interfaceName };
            else
            {
                var r = _runner.Run(wg, new[] { "show", "interfaces" });
                if (!r.Success) { f.Problems.Add("wg show interfaces: " + FirstLine(r.StdErr)); return f; }
                names = r.StdOut.Split(new[] { ' ', '\n', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToList();
            }
            foreach (var n in names)
            {
                // wireguard-go's sockets are shared between network namespaces: only links that exist here
                if (links != null && !links.ContainsKey(n)) { if (!string.IsNullOrEmpty(interfaceName)) f.Problems.Add($"no interface '{n}' on this host"); continue; }
                var r = _runner.Run(wg, new[] { "show", n, "dump" });
                if (!r.Success) { f.Problems.Add($"wg show {n} dump: {FirstLine(r.StdErr)}"); continue; }
                var i = ParseDump(n, r.StdOut, nonce);
                if (links != null && links.TryGetValue(n, out var li)) i.Addresses = li.Addresses.ToList();
                f.Interfaces.Add(i);
            }
            return f;
        }

        /// <summary>Parses `wg show IF dump`; the private key is never kept, a preshared key only as its keyed hash.</summary>
        public static InterfaceFacts ParseDump(string name, string dump, string nonce)
        {
            var i = new InterfaceFacts { Name = name };
            bool first = true;
            foreach (var raw in dump.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length == 0) continue;
                var x = line.Split('\t');
                if (first)
                {
                    first = false;
                    if (x.Length < 4) throw new FormatException("the interface line of the dump has " + x.Length + " fields");
                    i.PublicKey = x[1] == "(none)" ? null : x[1];
                    int.TryParse(x[2], NumberStyles.None, CultureInfo.InvariantCulture, out var port);
                    i.ListenPort = port;
                    continue;
                }
                if (x.Length < 8) throw new FormatException("a peer line of the dump has " + x.Length + " fields");
                long.TryParse(x[4], NumberStyles.None, CultureInfo.InvariantCulture, out var hs);
                long.TryParse(x[5], NumberStyles.None, CultureInfo.InvariantCulture, out var rx);
                long.TryParse(x[6], NumberStyles.None, CultureInfo.InvariantCulture, out var tx);
                int.TryParse(x[7], NumberStyles.None, CultureInfo.InvariantCulture, out var ka);
                i.Peers.Add(new PeerFacts
                {
                    PublicKey = x[0],
                    PresharedKeyHash = x[1] == "(none)" ? null : KeyedHash(x[1], nonce),
                    Endpoint = x[2] == "(none)" ? null : x[2],
                    AllowedIPs = x[3] == "(none)" ? new List<string>() : x[3].Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList(),
                    LatestHandshake = hs,
                    RxBytes = rx,
                    TxBytes = tx,
                    PersistentKeepalive = ka,
                });
            }
            return i;
        }

        /// <summary>HMAC-SHA256 of the key's bytes under the nonce, first 16 bytes as hex: equal keys give equal hashes in one run only.</summary>
        public static string KeyedHash(string base64Key, string nonce)
        {
            byte[] key;
            try { key = Convert.FromBase64String(base64Key); }
            catch (FormatException) { key = Encoding.UTF8.GetBytes(base64Key); }
            try
            {
                using (var h = new HMACSHA256(Encoding.UTF8.GetBytes(nonce ?? string.Empty)))
                {
                    var mac = h.ComputeHash(key);
                    var sb = new StringBuilder(32);
                    for (int k = 0; k < 16; k++) sb.Append(mac[k].ToString("x2", CultureInfo.InvariantCulture));
                    return sb.ToString();
                }
            }
            finally { Array.Clear(key, 0, key.Length); }
        }

        /// <summary>
        /// Captures this end's listen port for <paramref name="seconds"/>; when <paramref name="probeAddress"/>
        /// is given, sends three pings into the tunnel to that address (inside the peer's AllowedIPs) shortly
        /// after the capture opened, so that the tunnel sends an initiation or data towards the other end.
        /// </summary>
        public CaptureFacts Capture(string interfaceName, int listenPort, double seconds, string probeAddress, CancellationToken cancel)
        {
            var c = Start(interfaceName, listenPort, seconds + 2, probeAddress, TimeSpan.FromSeconds(1));
            if (!c.Running) return c.Stop();
            cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Max(1, Math.Min(30, seconds))));
            return c.Stop();
        }

        /// <summary>Starts a capture (and the probe, after <paramref name="probeDelay"/>) and returns once tcpdump captures; Stop returns what it saw.</summary>
        public RunningCapture Start(string interfaceName, int listenPort, double maxSeconds, string probeAddress, TimeSpan probeDelay, bool ownThread = false)
            => new RunningCapture(_runner, interfaceName, listenPort, TimeSpan.FromSeconds(Math.Max(2, Math.Min(40, maxSeconds))), probeAddress, probeDelay, ownThread);

        internal static string StripPrefix(string cidr)
        {
            int slash = cidr.IndexOf('/');
            return slash > 0 ? cidr.Substring(0, slash) : cidr;
        }

        private static string FirstLine(string s)
        {
            s = (s ?? string.Empty).Trim();
            int nl = s.IndexOf('\n');
            return nl > 0 ? s.Substring(0, nl) : (s.Length > 0 ? s : "no message");
        }
    }

    /// <summary>
    /// A capture of one listen port that runs until <see cref="Stop"/> (never longer than its lifetime): both
    /// ends of a remote diagnosis start theirs, and only then does the probe go out, so the window is common.
    /// </summary>
    public sealed class RunningCapture
    {
        private readonly CaptureFacts _c;
        private NativeProcess _proc;
        private readonly Thread _owner;
        private readonly ManualResetEventSlim _done = new ManualResetEventSlim();
        private readonly ManualResetEventSlim _stopProbe = new ManualResetEventSlim();
        private readonly List<PacketFact> _packets = new List<PacketFact>();
        private readonly Thread _probe;
        private readonly TimeSpan _lifetime;

        internal RunningCapture(INativeRunner runner, string interfaceName, int listenPort, TimeSpan lifetime, string probeAddress, TimeSpan probeDelay, bool ownThread)
        {
            _lifetime = lifetime;
            _c = new CaptureFacts { HostName = Environment.MachineName, Interface = interfaceName, ListenPort = listenPort };
            if (listenPort <= 0) { _c.Error = $"'{interfaceName}' has no listen port"; return; }
            if (probeAddress != null && !IPAddress.TryParse(probeAddress, out _)) { _c.Error = "the probe address is not an IP address"; return; }
            var max = lifetime + TrafficCapture.StartTimeout + TrafficCapture.Margin;
            if (!ownThread)
            {
                try { _proc = runner.Start("tcpdump", TrafficCapture.TcpdumpArguments(listenPort), max); }
                catch (WgException ex) { _c.Error = ex.Message; return; }
            }
            else
            {
                // tcpdump dies with the thread that started it (parent-death signal): on the other end the call
                // that starts the capture returns at once, so a thread of its own starts it and lives until Stop
                var started = new ManualResetEventSlim();
                WgException error = null;
                _owner = new Thread(() =>
                {
                    try { _proc = runner.Start("tcpdump", TrafficCapture.TcpdumpArguments(listenPort), max); }
                    catch (WgException ex) { error = ex; }
                    finally { started.Set(); }
                    if (_proc != null) _stopProbe.Wait(max);
                })
                { IsBackground = true, Name = "remote diagnosis capture owner" };
                _owner.Start();
                started.Wait();
                if (error != null) { _c.Error = error.Message; return; }
            }
            var reader = new PcapReader(_proc.StandardOutput);
            var header = new ManualResetEventSlim();
            var t = new Thread(() =>
            {
                try
                {
                    if (!reader.ReadHeader()) return;
                    header.Set();
                    PcapPacket p;
                    while ((p = reader.ReadPacket()) != null)
                    {
                        var u = PacketDecoder.Decode(p);
                        var type = u == null ? WgMessageType.NotWireGuard : TrafficTracer.Classify(u.PayloadStart, u.PayloadLength);
                        if (type == WgMessageType.NotWireGuard) continue;
                        bool outgoing = u.Direction == CaptureDirection.Outgoing || (u.Direction == CaptureDirection.Unknown && u.SourcePort == listenPort);
                        var remote = outgoing ? TrafficTracer.FormatEndpoint(u.Destination, u.DestinationPort) : TrafficTracer.FormatEndpoint(u.Source, u.SourcePort);
                        string name = type == WgMessageType.Data && u.PayloadLength == TrafficTracer.MinDataSize ? "Keepalive" : type.ToString();
                        lock (_packets) if (_packets.Count < EndCollector.MaxPackets) _packets.Add(new PacketFact { TimeUtc = u.TimestampUtc, Outgoing = outgoing, Remote = remote, Type = name });
                    }
                }
                catch (Exception ex) when (ex is System.IO.InvalidDataException || ex is System.IO.IOException || ex is ObjectDisposedException) { }
                finally { _done.Set(); }
            })
            { IsBackground = true, Name = "remote diagnosis capture" };
            t.Start();
            WaitHandle.WaitAny(new[] { header.WaitHandle, _done.WaitHandle }, TrafficCapture.StartTimeout);
            if (!header.IsSet)
            {
                _proc.Stop();
                _done.Wait(2000);
                _c.Error = "tcpdump did not start capturing: " + EndCollectorText.FirstLine(_proc.StandardError);
                _proc.Dispose();
                _proc = null;
                return;
            }
            _c.StartUtc = DateTime.UtcNow;
            _c.Ran = true;
            if (probeAddress != null)
            {
                _c.Probe = $"3 pings to {probeAddress} through {interfaceName}";
                // its own runner: the caller's may log to a cmdlet, which only its own thread may write to
                var quiet = new NativeRunner(null);
                _probe = new Thread(() =>
                {
                    if (_stopProbe.Wait(probeDelay)) return;
                    try { quiet.Run("ping", new[] { "-n", "-q", "-c", "3", "-i", "0.5", "-W", "1", "-I", interfaceName, probeAddress }, TimeSpan.FromSeconds(6)); }
                    catch (WgException) { }
                })
                { IsBackground = true, Name = "remote diagnosis probe" };
                _probe.Start();
            }
        }

        public bool Running => _proc != null && _c.Ran;

        /// <summary>Ends the capture (after a short grace for packets in flight) and returns what it saw.</summary>
        public CaptureFacts Stop()
        {
            if (_proc == null) return _c;
            Thread.Sleep(200);
            _c.EndUtc = DateTime.UtcNow;
            bool endedEarly = _done.IsSet && !_proc.ReachedLifetime;
            _proc.Stop();
            _done.Wait(2000);
            _stopProbe.Set();
            _probe?.Join(7000);
            lock (_packets) _c.Packets.AddRange(_packets);
            if (endedEarly) { _c.Error = "tcpdump stopped before the window ended: " + EndCollectorText.FirstLine(_proc.StandardError); _c.Ran = false; }
            if (_c.EndUtc - _c.StartUtc > _lifetime) _c.EndUtc = _c.StartUtc + _lifetime;
            _proc.Dispose();
            return _c;
        }
    }

    internal static class EndCollectorText
    {
        internal static string FirstLine(string s)
        {
            s = (s ?? string.Empty).Trim();
            int nl = s.IndexOf('\n');
            return nl > 0 ? s.Substring(0, nl) : (s.Length > 0 ? s : "no message");
        }
    }
}
