using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using WgTroubleshoot.Config;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Firewall
{
    /// <summary>Which (interface, port) pairs to check, and which links the packets arrive on.</summary>
    public sealed class FirewallTargets
    {
        private readonly INativeRunner _runner;
        private List<WgDevice> _devices;

        public FirewallTargets(INativeRunner runner)
        {
            _runner = runner;
        }

        private List<WgDevice> Devices
        {
            get
            {
                if (_devices != null) return _devices;
                try
                {
                    _devices = new WgStateReader(_runner).ReadAll();
                }
                catch (WgException ex) when (ex.Category != System.Management.Automation.ErrorCategory.PermissionDenied)
                {
                    // No WireGuard state at all (no wg, no socket): the configuration may still name the port.
                    // Without the privilege to read it, say so instead of "not found".
                    _devices = new List<WgDevice>();
                }
                return _devices;
            }
        }

        /// <summary>
        /// The port of an interface: its live ListenPort, else ListenPort from its configuration file.
        /// With neither -Interface nor -Port: every live interface that listens.
        /// </summary>
        public List<FirewallQuery> Resolve(string iface, int? port)
        {
            var underlay = Underlay();
            if (port.HasValue) return new List<FirewallQuery> { new FirewallQuery { Port = port.Value, Interface = iface, Underlay = underlay } };
            if (iface != null)
            {
                var live = Devices.FirstOrDefault(d => d.Interface.Name == iface);
                int? p = live?.Interface.ListenPort ?? ConfigListenPort(iface);
                if (p == null)
                {
                    var cfg = WgConfigLocation.PathForConfigOrNull(iface);
                    if (live == null && (cfg == null || !File.Exists(cfg))) throw WgStateReader.NotFound(iface);
                    throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound,
                        $"'{iface}' has no ListenPort (live or in its configuration): there is no inbound port to check. Give -Port.", iface);
                }
                return new List<FirewallQuery> { new FirewallQuery { Port = p.Value, Interface = iface, Underlay = underlay } };
            }
            var all = Devices.Where(d => d.Interface.ListenPort.HasValue)
                .Select(d => new FirewallQuery { Port = d.Interface.ListenPort.Value, Interface = d.Interface.Name, Underlay = underlay }).ToList();
            if (all.Count == 0)
                throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound,
                    "No WireGuard interface with a listen port is up on this host. Give -Interface or -Port.", null);
            return all;
        }

        public static int? ConfigListenPort(string iface)
        {
            var path = WgConfigLocation.PathForConfigOrNull(iface);
            try
            {
                if (path == null || !File.Exists(path)) return null;
                foreach (var line in File.ReadAllLines(path))
                {
                    var m = Regex.Match(line, @"^\s*ListenPort\s*=\s*(\d+)\s*(#.*)?$", RegexOptions.IgnoreCase);
                    if (m.Success && int.TryParse(m.Groups[1].Value, out var p)) return p;
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return null;
        }

        /// <summary>Every link but loopback and the WireGuard interfaces.</summary>
        public IReadOnlyList<string> Underlay()
        {
            if (!_runner.IsAvailable("ip")) return new string[0];
            var r = _runner.Run("ip", new[] { "-o", "link", "show" });
            if (!r.Success) return new string[0];
            var tunnels = new HashSet<string>(Devices.Select(d => d.Interface.Name));
            return IpInfo.ParseLinks(r.StdOut).Keys.Where(n => n != "lo" && !tunnels.Contains(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        }
    }
}
