using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.State
{
    /// <summary>Link details of one network interface as `ip` reports them.</summary>
    public sealed class LinkInfo
    {
        public string Name { get; set; }
        public int? Mtu { get; set; }
        public string State { get; set; }
        public bool AdminUp { get; set; }
        /// <summary>The driver reports the link usable (LOWER_UP).</summary>
        public bool LowerUp { get; set; }

        /// <summary>Up, Down, or NoCarrier (administratively up but not usable), from the link flags.
        /// The kernel's operstate is no help here: tun and WireGuard links always say UNKNOWN.</summary>
        public string LinkState => !AdminUp ? "Down" : LowerUp ? "Up" : "NoCarrier";
        public List<string> Addresses { get; } = new List<string>();
    }

    /// <summary>Reads `ip -o link show` and `ip -o addr show` (one call each for all links).</summary>
    public static class IpInfo
    {
        public static Dictionary<string, LinkInfo> Read(INativeRunner runner)
        {
            var links = ParseLinks(NativeRunner.RunChecked(runner, "Reading links", "ip", new[] { "-o", "link", "show" }).StdOut);
            var addr = runner.Run("ip", new[] { "-o", "addr", "show" });
            if (addr.Success) ParseAddresses(addr.StdOut, links);
            return links;
        }

        /// <summary>Parses lines such as "5: wg0: &lt;POINTOPOINT,NOARP,UP,LOWER_UP&gt; mtu 1420 qdisc noqueue state UNKNOWN mode DEFAULT ...".</summary>
        public static Dictionary<string, LinkInfo> ParseLinks(string text)
        {
            var result = new Dictionary<string, LinkInfo>(StringComparer.Ordinal);
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0) continue;
                var parts = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3) continue;
                var name = parts[1].TrimEnd(':');
                int at = name.IndexOf('@');
                if (at > 0) name = name.Substring(0, at);
                var info = new LinkInfo { Name = name };
                var flags = parts[2].Trim('<', '>').Split(',');
                info.AdminUp = Array.IndexOf(flags, "UP") >= 0;
                info.LowerUp = Array.IndexOf(flags, "LOWER_UP") >= 0;
                for (int i = 3; i < parts.Length - 1; i++)
                {
                    if (parts[i] == "mtu" && int.TryParse(parts[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var mtu)) info.Mtu = mtu;
                    else if (parts[i] == "state") info.State = parts[i + 1];
                }
                result[name] = info;
            }
            return result;
        }

        /// <summary>Parses lines such as "5: wg0    inet 192.0.2.1/26 scope global wg0\       valid_lft forever ...".</summary>
        public static void ParseAddresses(string text, Dictionary<string, LinkInfo> links)
        {
            foreach (var raw in text.Split('\n'))
            {
                var parts = raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 4) continue;
                var name = parts[1];
                if ((parts[2] == "inet" || parts[2] == "inet6") && links.TryGetValue(name, out var info))
                {
                    var a = parts[3];
                    // Point-to-point addresses read "192.0.2.1 peer 192.0.2.2/32": keep the local side.
                    if (a.IndexOf('/') < 0 && parts.Length > 5 && parts[4] == "peer") a = a + "/" + parts[5].Split('/')[1];
                    info.Addresses.Add(a);
                }
            }
        }

        /// <summary>
        /// True when a link of exactly that name exists in this network namespace (Linux /sys; elsewhere true for
        /// any valid name). A name the kernel could not have (with '/', "." or "..", too long...) is never
        /// found, so no path normalisation (stva/../stva) can make one look present.
        /// </summary>
        public static bool LinkExists(string name)
        {
            if (!InterfaceName.IsValid(name)) return false;
            if (!Directory.Exists("/sys/class/net")) return true;
            return Directory.Exists("/sys/class/net/" + name);
        }
    }
}
