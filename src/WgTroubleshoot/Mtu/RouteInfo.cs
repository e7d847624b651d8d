using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Mtu
{
    /// <summary>The local route to one destination, as `ip route get` reports it.</summary>
    public sealed class RouteLookup
    {
        public string Device { get; set; }
        public string Via { get; set; }
        public string Source { get; set; }
        /// <summary>The route's own mtu attribute (configured, or a cached path MTU the kernel learned), when present.</summary>
        public int? RouteMtu { get; set; }
        /// <summary>True when the mtu came from the route cache (a learned path MTU).</summary>
        public bool MtuFromCache { get; set; }
        /// <summary>The MTU of <see cref="Device"/>.</summary>
        public int? LinkMtu { get; set; }

        /// <summary>The largest packet the local host sends to the destination: the route's mtu, else the link's.</summary>
        public int? EffectiveMtu => RouteMtu ?? LinkMtu;

        /// <summary>
        /// Parses `ip route get` output such as
        /// "203.0.113.2 via 198.51.100.1 dev eth0 src 198.51.100.2 uid 0 \n    cache expires 591sec mtu 1400".
        /// </summary>
        public static RouteLookup Parse(string text)
        {
            var r = new RouteLookup();
            var tokens = (text ?? "").Split(new[] { ' ', '\t', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries);
            bool inCache = false;
            for (int i = 0; i < tokens.Length; i++)
            {
                var t = tokens[i];
                string next = i + 1 < tokens.Length ? tokens[i + 1] : null;
                switch (t)
                {
                    case "cache": inCache = true; break;
                    case "dev": if (r.Device == null) r.Device = next; i++; break;
                    case "via": if (r.Via == null) r.Via = next; i++; break;
                    case "src": if (r.Source == null) r.Source = next; i++; break;
                    case "mtu":
                        if (next == "lock") { i++; next = i + 1 < tokens.Length ? tokens[i + 1] : null; }
                        if (next != null && int.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var m))
                        {
                            r.RouteMtu = m;
                            r.MtuFromCache = inCache;
                        }
                        i++;
                        break;
                }
            }
            return r;
        }

        /// <summary>Runs `ip route get` for the destination and reads the device's MTU.</summary>
        public static RouteLookup Get(INativeRunner runner, IPAddress destination)
        {
            var args = destination.AddressFamily == AddressFamily.InterNetworkV6
                ? new[] { "-6", "route", "get", destination.ToString() }
                : new[] { "-4", "route", "get", destination.ToString() };
            var res = runner.Run("ip", args);
            if (!res.Success)
                throw new WgException(ErrorIds.NoRoute, System.Management.Automation.ErrorCategory.ConnectionError,
                    $"There is no route to {destination}: '{res.CommandLine}' said: {res.StdErr.Trim()}", destination.ToString());
            var r = Parse(res.StdOut);
            if (r.Device != null)
            {
                var link = runner.Run("ip", new[] { "-o", "link", "show", "dev", r.Device });
                if (link.Success && IpInfo.ParseLinks(link.StdOut).TryGetValue(r.Device, out var li)) r.LinkMtu = li.Mtu;
            }
            return r;
        }
    }
}
