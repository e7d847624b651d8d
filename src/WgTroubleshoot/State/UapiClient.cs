using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot.State
{
    /// <summary>
    /// Reads a userspace WireGuard implementation (wireguard-go, boringtun) straight from its UAPI socket,
    /// for hosts without `wg`. Private and preshared keys in the reply are skipped, never stored.
    /// </summary>
    public static class UapiClient
    {
        /// <summary>The socket directory; overridable for tests.</summary>
        public static string SocketDirectory { get; set; } = "/var/run/wireguard";

        public static IEnumerable<string> ListInterfaces()
        {
            if (!Directory.Exists(SocketDirectory)) yield break;
            string[] files;
            try { files = Directory.GetFiles(SocketDirectory, "*.sock"); }
            catch (UnauthorizedAccessException ex)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"Reading WireGuard state needs root: cannot list {SocketDirectory} ({ex.Message}).", SocketDirectory, ex);
            }
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var f in files) yield return Path.GetFileNameWithoutExtension(f);
        }

        public static bool HasSocket(string name) => File.Exists(Path.Combine(SocketDirectory, name + ".sock"));

        /// <summary>Sends `get=1` and parses the reply.</summary>
        public static WgDevice Get(string name, DateTime nowUtc, TimeSpan timeout)
        {
            var path = Path.Combine(SocketDirectory, name + ".sock");
            string reply;
            try
            {
                reply = Query(path, "get=1\n\n", timeout);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied || ex.NativeErrorCode == 13)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"Reading WireGuard interface '{name}' needs root: access to its userspace socket was denied.", name, ex);
            }
            catch (SocketException ex)
            {
                throw new WgException(ErrorIds.UapiError, ErrorCategory.InvalidResult,
                    $"The userspace WireGuard socket of '{name}' did not answer: {ex.Message}", name, ex);
            }
            return Parse(name, reply, nowUtc);
        }

        internal static string Query(string socketPath, string request, TimeSpan timeout)
        {
            var endpointType = Type.GetType("System.Net.Sockets.UnixDomainSocketEndPoint, System.Net.Sockets")
                               ?? Type.GetType("System.Net.Sockets.UnixDomainSocketEndPoint, System");
            if (endpointType == null)
                throw new WgException(ErrorIds.NotSupported, ErrorCategory.NotImplemented,
                    "This PowerShell cannot open Unix sockets; install wireguard-tools (wg).", socketPath);
            var ep = (EndPoint)Activator.CreateInstance(endpointType, socketPath);
            using (var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                s.ReceiveTimeout = (int)timeout.TotalMilliseconds;
                s.SendTimeout = (int)timeout.TotalMilliseconds;
                s.Connect(ep);
                s.Send(Encoding.ASCII.GetBytes(request));
                var sb = new StringBuilder();
                var buf = new byte[65536];
                var deadline = DateTime.UtcNow + timeout;
                while (true)
                {
                    int n = s.Receive(buf);
                    if (n <= 0) break;
                    sb.Append(Encoding.ASCII.GetString(buf, 0, n));
                    // The reply ends with "errno=N\n\n".
                    var str = sb.ToString();
                    int e = str.LastIndexOf("errno=", StringComparison.Ordinal);
                    if (e >= 0 && str.EndsWith("\n\n", StringComparison.Ordinal) && (e == 0 || str[e - 1] == '\n')) break;
                    if (DateTime.UtcNow > deadline) throw new SocketException((int)SocketError.TimedOut);
                }
                return sb.ToString();
            }
        }

        internal static WgDevice Parse(string name, string reply, DateTime nowUtc)
        {
            var dev = new WgDevice { Interface = new WgInterface { Name = name, Source = "uapi" } };
            WgPeer peer = null;
            long hsSec = 0, hsNsec = 0;
            var allowed = new List<string>();
            void Flush()
            {
                if (peer == null) return;
                WgDumpParser.SetHandshake(peer, hsSec, hsNsec, nowUtc);
                peer.AllowedIPs = allowed.ToArray();
                dev.Peers.Add(peer);
                allowed.Clear();
                hsSec = hsNsec = 0;
            }
            foreach (var raw in reply.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length == 0) continue;
                int eq = line.IndexOf('=');
                if (eq <= 0) continue;
                var key = line.Substring(0, eq);
                var value = line.Substring(eq + 1);
                switch (key)
                {
                    case "private_key":
                        dev.Interface.PublicKey = WgKey.PublicFromPrivate(WgKey.HexToBase64(value));
                        break;
                    case "listen_port":
                        dev.Interface.ListenPort = int.Parse(value, CultureInfo.InvariantCulture) is var lp && lp != 0 ? lp : (int?)null;
                        break;
                    case "fwmark":
                        dev.Interface.FwMark = WgDumpParser.ParseFwMark(value);
                        break;
                    case "public_key":
                        Flush();
                        peer = new WgPeer { Interface = name, PublicKey = WgKey.HexToBase64(value) };
                        break;
                    case "preshared_key":
                        if (peer != null) peer.HasPresharedKey = !WgKey.IsAllZeroHex(value);
                        break;
                    case "endpoint":
                        if (peer != null) peer.Endpoint = value;
                        break;
                    case "last_handshake_time_sec":
                        hsSec = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "last_handshake_time_nsec":
                        hsNsec = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "tx_bytes":
                        if (peer != null) peer.TxBytes = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "rx_bytes":
                        if (peer != null) peer.RxBytes = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "persistent_keepalive_interval":
                        if (peer != null) { var k = int.Parse(value, CultureInfo.InvariantCulture); peer.PersistentKeepalive = k == 0 ? (int?)null : k; }
                        break;
                    case "allowed_ip":
                        allowed.Add(value);
                        break;
                    case "errno":
                        if (value != "0")
                            throw new WgException(ErrorIds.UapiError, ErrorCategory.InvalidResult,
                                $"The userspace WireGuard socket of '{name}' answered with errno {value}.", name);
                        break;
                }
            }
            Flush();
            dev.Interface.PeerCount = dev.Peers.Count;
            return dev;
        }
    }
}
