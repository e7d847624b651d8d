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
        /// is given, sends three pings into the tunnel to that address (inside the peer's AllowedIPs) one second
        /// after the capture opened, so that the tunnel sends an initiation or data towards the other end.
        /// </summary>
        public CaptureFacts Capture(string interfaceName, int listenPort, double seconds, string probeAddress, CancellationToken cancel)
        {
            var c = new CaptureFacts { HostName = Environment.MachineName, Interface = interfaceName, ListenPort = listenPort };
            if (listenPort <= 0) { c.Error = $"'{interfaceName}' has no listen port"; return c; }
            if (probeAddress != null && !IPAddress.TryParse(probeAddress, out _)) { c.Error = "the probe address is not an IP address"; return c; }
            var duration = TimeSpan.FromSeconds(Math.Max(1, Math.Min(30, seconds)));
            NativeProcess proc;
            try
            {
                proc = _runner.Start("tcpdump", TrafficCapture.TcpdumpArguments(listenPort), duration + TrafficCapture.StartTimeout + TrafficCapture.Margin);
            }
            catch (WgException ex) { c.Error = ex.Message; return c; }
            using (proc)
            {
                var reader = new PcapReader(proc.StandardOutput);
                var header = new ManualResetEventSlim();
                var done = new ManualResetEventSlim();
                var packets = new List<PacketFact>();
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
                            lock (packets) if (packets.Count < MaxPackets) packets.Add(new PacketFact { TimeUtc = u.TimestampUtc, Outgoing = outgoing, Remote = remote, Type = name });
                        }
                    }
                    catch (Exception ex) when (ex is System.IO.InvalidDataException || ex is System.IO.IOException || ex is ObjectDisposedException) { }
                    finally { done.Set(); }
                })
                { IsBackground = true, Name = "remote diagnosis capture" };
                t.Start();
                WaitHandle.WaitAny(new[] { header.WaitHandle, done.WaitHandle, cancel.WaitHandle }, TrafficCapture.StartTimeout);
                if (!header.IsSet)
                {
                    proc.Stop();
                    done.Wait(2000);
                    c.Error = "tcpdump did not start capturing: " + FirstLine(proc.StandardError);
                    return c;
                }
                c.StartUtc = DateTime.UtcNow;
                c.Ran = true;
                Thread probe = null;
                if (probeAddress != null)
                {
                    c.Probe = $"3 pings to {probeAddress} through {interfaceName}";
                    // its own runner: the caller's may log to a cmdlet, which only its own thread may write to
                    var quiet = new NativeRunner(null);
                    probe = new Thread(() =>
                    {
                        if (cancel.WaitHandle.WaitOne(1000)) return;
                        try { quiet.Run("ping", new[] { "-n", "-q", "-c", "3", "-i", "0.5", "-W", "1", "-I", interfaceName, probeAddress }, TimeSpan.FromSeconds(6)); }
                        catch (WgException) { }
                    })
                    { IsBackground = true, Name = "remote diagnosis probe" };
                    probe.Start();
                }
                WaitHandle.WaitAny(new[] { cancel.WaitHandle, done.WaitHandle }, duration);
                // the capture flushes per packet (-U): a short grace for the last ones in flight
                Thread.Sleep(200);
                c.EndUtc = DateTime.UtcNow;
                proc.Stop();
                done.Wait(2000);
                probe?.Join(7000);
                lock (packets) c.Packets.AddRange(packets);
                if (done.IsSet && c.EndUtc - c.StartUtc < duration && !cancel.IsCancellationRequested && !proc.ReachedLifetime && c.Packets.Count == 0)
                    c.Error = "tcpdump stopped early: " + FirstLine(proc.StandardError);
            }
            return c;
        }

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
}
