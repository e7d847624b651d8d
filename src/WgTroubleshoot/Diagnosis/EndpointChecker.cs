using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>
    /// Compares the live endpoint of peers configured with a host name against what the name resolves to
    /// now (dynamic DNS), the way wireguard-tools' reresolve-dns.sh decides, with evidence.
    /// </summary>
    public sealed class EndpointChecker
    {
        /// <summary>reresolve-dns.sh re-applies a name only when the handshake is older than this.</summary>
        public static readonly TimeSpan ReresolveAfter = TimeSpan.FromSeconds(135);

        private readonly Func<string, IPAddress[]> _resolve;
        private readonly Func<IPAddress, bool> _hasRoute;
        private readonly Func<AddressFamily, bool> _routesFamily;

        /// <param name="resolve">Resolves a host name to its A and AAAA addresses; throws or returns none when it cannot.</param>
        /// <param name="hasRoute">True when this host has a route to the address.</param>
        /// <param name="routesFamily">True when this host routes the address family at all; a name of one family is a
        /// family mismatch only when the host routes the other family and not this one (a family it routes whose one
        /// address has no route is no route to that address, not a mismatch). Null: unknown, the other family is
        /// assumed routed and this one not.</param>
        public EndpointChecker(Func<string, IPAddress[]> resolve, Func<IPAddress, bool> hasRoute, Func<AddressFamily, bool> routesFamily = null)
        {
            _resolve = resolve;
            _hasRoute = hasRoute;
            _routesFamily = routesFamily;
        }

        private bool Routes(AddressFamily family, bool unknown) => _routesFamily == null ? unknown : _routesFamily(family);

        /// <summary>The system resolver (getaddrinfo: /etc/hosts, then DNS), bounded in time.</summary>
        public static IPAddress[] SystemResolve(string host, TimeSpan timeout)
        {
            var task = Dns.GetHostAddressesAsync(host);
            if (!task.Wait(timeout)) return new IPAddress[0];
            return task.Result;
        }

        /// <summary>Route check with `ip route get` (Linux); true where `ip` is missing (nothing to say then).</summary>
        public static bool HasRoute(INativeRunner runner, IPAddress address)
        {
            if (!runner.IsAvailable("ip")) return true;
            var r = runner.Run("ip", new[] { address.AddressFamily == AddressFamily.InterNetworkV6 ? "-6" : "-4", "route", "get", address.ToString() }, TimeSpan.FromSeconds(5));
            return r.Success;
        }

        /// <summary>True for an Endpoint host that is a name, not an address literal.</summary>
        public static bool IsHostName(string host) => !string.IsNullOrEmpty(host) && !IPAddress.TryParse(host.Trim('[', ']'), out _);

        /// <summary>Checks one configured peer against its live state (null when the peer is not live).</summary>
        public EndpointStatus Check(WgConfig config, WgConfigPeer configured, WgPeer live)
            => Check(config.Interface, config.SaveConfig, configured.PublicKey, configured.Name, configured.Endpoint, configured.EndpointHost, configured.EndpointPort, live);

        /// <summary>The same for a peer of a snapshot's (secret-free) configuration.</summary>
        public EndpointStatus Check(string iface, bool saveConfig, WgTroubleshoot.Snapshot.ConfigPeerSnapshot configured, WgPeer live)
            => Check(iface, saveConfig, configured.PublicKey, configured.Name, configured.Endpoint, configured.EndpointHost, configured.EndpointPort, live);

        private EndpointStatus Check(string iface, bool saveConfig, string publicKey, string name, string endpoint, string endpointHost, int? endpointPort, WgPeer live)
        {
            var s = new EndpointStatus
            {
                Interface = iface,
                Peer = publicKey,
                Name = name,
                ConfiguredEndpoint = endpoint,
                Host = endpointHost,
                Port = endpointPort ?? 0,
                LiveEndpoint = live?.Endpoint,
                LatestHandshake = live?.LatestHandshake,
                HandshakeAge = live?.HandshakeAge,
                SaveConfigRisk = saveConfig,
            };
            IPAddress[] addresses;
            string failure = null;
            try
            {
                addresses = _resolve(endpointHost) ?? new IPAddress[0];
            }
            catch (Exception ex) when (ex is SocketException || ex is AggregateException || ex is ArgumentException)
            {
                addresses = new IPAddress[0];
                failure = (ex as AggregateException)?.InnerException?.Message ?? ex.Message;
            }
            s.ResolvedAddresses = addresses.Select(a => a.ToString()).ToArray();
            if (addresses.Length == 0)
            {
                s.Status = nameof(EndpointState.Unresolvable);
                s.Reason = $"'{endpointHost}' does not resolve now{(failure != null ? " (" + failure + ")" : "")}; the peer keeps its last address {s.LiveEndpoint ?? "(none)"}.";
                return s;
            }

            var v4 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToList();
            var v6 = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).ToList();
            bool v4Route = v4.Any(_hasRoute), v6Route = v6.Any(_hasRoute);
            if (v4.Count == 0 && v6.Count > 0 && !v6Route && Routes(AddressFamily.InterNetwork, true) && !Routes(AddressFamily.InterNetworkV6, false))
                s.AddressFamilyWarning = $"'{endpointHost}' resolves only to IPv6 ({string.Join(", ", v6)}) and this host has no IPv6 route to it: add an A record or IPv6 connectivity.";
            else if (v6.Count == 0 && v4.Count > 0 && !v4Route && Routes(AddressFamily.InterNetworkV6, true) && !Routes(AddressFamily.InterNetwork, false))
                s.AddressFamilyWarning = $"'{endpointHost}' resolves only to IPv4 ({string.Join(", ", v4)}) and this host has no IPv4 route to it: add an AAAA record or IPv4 connectivity.";

            // wg takes the first usable address getaddrinfo returns; prefer one this host can reach.
            var pick = addresses.FirstOrDefault(_hasRoute) ?? addresses[0];
            s.RecommendedEndpoint = FormatEndpoint(pick, s.Port);

            var liveAddress = ParseEndpointAddress(s.LiveEndpoint, out int livePort);
            if (liveAddress != null && livePort == s.Port && addresses.Any(a => Same(a, liveAddress)))
            {
                s.Status = nameof(EndpointState.Current);
                s.Reason = $"The live endpoint {s.LiveEndpoint} is what '{endpointHost}' resolves to now.";
            }
            else
            {
                s.Status = nameof(EndpointState.Drifted);
                s.Reason = $"'{endpointHost}' resolves to {string.Join(", ", s.ResolvedAddresses)} now, but WireGuard still sends to {s.LiveEndpoint ?? "(none)"}: "
                           + "WireGuard resolves a name only when the peer is configured. Update-WgEndpoint re-applies it.";
            }
            return s;
        }

        /// <summary>True when a drifted peer should be re-resolved now: no handshake, or one older than 135 s (or forced).</summary>
        public static bool ShouldUpdate(EndpointStatus s, bool force)
            => s.Status == nameof(EndpointState.Drifted) && s.RecommendedEndpoint != null
               && (force || !s.HandshakeAge.HasValue || s.HandshakeAge.Value > ReresolveAfter);

        public static string FormatEndpoint(IPAddress a, int port)
            => a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{port.ToString(CultureInfo.InvariantCulture)}" : $"{a}:{port.ToString(CultureInfo.InvariantCulture)}";

        /// <summary>Parses "192.0.2.1:51820" or "[2001:db8::1]:51820".</summary>
        public static IPAddress ParseEndpointAddress(string endpoint, out int port)
        {
            port = 0;
            if (string.IsNullOrEmpty(endpoint)) return null;
            int colon = endpoint.LastIndexOf(':');
            if (colon <= 0) return null;
            var host = endpoint.Substring(0, colon).Trim('[', ']');
            int.TryParse(endpoint.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port);
            return IPAddress.TryParse(host, out var a) ? a : null;
        }

        private static bool Same(IPAddress a, IPAddress b)
        {
            if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
            if (b.IsIPv4MappedToIPv6) b = b.MapToIPv4();
            return a.Equals(b);
        }
    }
}
