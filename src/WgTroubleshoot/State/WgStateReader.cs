using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.State
{
    /// <summary>
    /// Reads the live WireGuard state of this host (this network namespace): `wg show all dump` when `wg`
    /// is installed, otherwise the userspace API sockets directly. Adds link details from `ip` and peer
    /// names from the interface's configuration file.
    /// </summary>
    public sealed class WgStateReader
    {
        private readonly INativeRunner _runner;
        private readonly Func<DateTime> _clock;

        public WgStateReader(INativeRunner runner, Func<DateTime> clock = null)
        {
            _runner = runner;
            _clock = clock ?? (() => DateTime.UtcNow);
        }

        /// <summary>The wg executable: WGT_WG_PATH when set (a path that does not exist means "no wg"), else wg on PATH.</summary>
        public static string WgTool
        {
            get
            {
                var env = Environment.GetEnvironmentVariable("WGT_WG_PATH");
                return string.IsNullOrEmpty(env) ? "wg" : env;
            }
        }

        public bool WgAvailable => _runner.IsAvailable(WgTool);

        /// <summary>
        /// The devices the names ask for, in the order asked (all devices when no names are given).
        /// Wildcards are allowed; a literal name without a WireGuard interface behind it is reported through
        /// <paramref name="notFound"/> and skipped. When every name is literal, each is read with its own
        /// `wg show IF dump`, so a host with many interfaces is not read whole for one.
        /// </summary>
        public List<WgDevice> Read(string[] names, Action<WgException> notFound)
        {
            var result = new List<WgDevice>();
            if (names == null || names.Length == 0) return ReadAll();
            if (names.Any(WildcardPattern.ContainsWildcardCharacters) || !WgAvailable)
            {
                var all = ReadAll();
                foreach (var n in names)
                {
                    if (WildcardPattern.ContainsWildcardCharacters(n))
                    {
                        var p = new WildcardPattern(n, WildcardOptions.IgnoreCase);
                        result.AddRange(all.Where(d => p.IsMatch(d.Interface.Name) && !result.Contains(d)));
                    }
                    else
                    {
                        var d = all.FirstOrDefault(x => x.Interface.Name == n);
                        if (d == null) notFound(NotFound(n));
                        else if (!result.Contains(d)) result.Add(d);
                    }
                }
                return result;
            }
            var now = _clock();
            foreach (var name in names.Distinct(StringComparer.Ordinal))
            {
                if (!IpInfo.LinkExists(name))
                {
                    notFound(NotFound(name));
                    continue;
                }
                var r = _runner.Run(WgTool, new[] { "show", name, "dump" });
                if (!r.Success)
                {
                    var err = r.StdErr;
                    if (err.IndexOf("No such device", StringComparison.OrdinalIgnoreCase) >= 0
                        || err.IndexOf("not supported", StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        notFound(NotFound(name));
                        continue;
                    }
                    throw NativeRunner.ToError(r, "Reading WireGuard state");
                }
                try
                {
                    result.AddRange(WgDumpParser.Parse(r.StdOut, name, now));
                }
                catch (FormatException ex)
                {
                    throw new WgException(ErrorIds.ToolFailed, ErrorCategory.InvalidResult,
                        $"The output of 'wg show {name} dump' was not understood: " + ex.Message, "wg", ex);
                }
            }
            return result;
        }

        public static WgException NotFound(string name)
            => new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound,
                $"No WireGuard interface named '{name}' exists on this host.", name);

        /// <summary>Every WireGuard device in this network namespace, in name order.</summary>
        public List<WgDevice> ReadAll()
        {
            var now = _clock();
            List<WgDevice> devices;
            if (WgAvailable)
            {
                var r = _runner.Run(WgTool, new[] { "show", "all", "dump" });
                if (!r.Success) throw NativeRunner.ToError(r, "Reading WireGuard state");
                try
                {
                    devices = WgDumpParser.Parse(r.StdOut, null, now);
                }
                catch (FormatException ex)
                {
                    throw new WgException(ErrorIds.ToolFailed, ErrorCategory.InvalidResult,
                        "The output of 'wg show all dump' was not understood: " + ex.Message, "wg", ex);
                }
            }
            else
            {
                var names = UapiClient.ListInterfaces().ToList();
                if (names.Count == 0 && !Directory.Exists(UapiClient.SocketDirectory))
                    throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                        "Neither the 'wg' command nor a userspace WireGuard socket was found. " + NativeRunner.InstallHint("wg"), "wg");
                devices = new List<WgDevice>();
                foreach (var n in names)
                {
                    // A socket left behind by a daemon that is gone does not answer: skip it as wg does.
                    if (!IpInfo.LinkExists(n)) continue;
                    devices.Add(UapiClient.Get(n, now, NativeRunner.DefaultTimeout));
                }
            }
            // wg lists userspace interfaces by their sockets, which are shared between network namespaces:
            // keep only the interfaces whose link exists here.
            devices = devices.Where(d => IpInfo.LinkExists(d.Interface.Name)).OrderBy(d => d.Interface.Name, StringComparer.Ordinal).ToList();
            return devices;
        }

        /// <summary>Adds MTU, addresses, link state (from `ip`) and the config path.</summary>
        public void AddLinkDetails(IList<WgDevice> devices)
        {
            if (devices.Count == 0) return;
            Dictionary<string, LinkInfo> links = null;
            if (_runner.IsAvailable("ip")) links = IpInfo.Read(_runner);
            foreach (var d in devices)
            {
                var i = d.Interface;
                if (links != null && links.TryGetValue(i.Name, out var li))
                {
                    i.Mtu = li.Mtu;
                    i.Addresses = li.Addresses.ToArray();
                    i.LinkState = li.State;
                    i.IsUp = li.AdminUp;
                }
                var cfg = WgTroubleshoot.Config.WgConfigLocation.PathForConfigOrNull(i.Name);
                i.ConfigPath = cfg != null && File.Exists(cfg) ? cfg : null;
            }
        }

        /// <summary>Fills each peer's Name from the comment above its [Peer] section in the interface's config.</summary>
        public static void AddPeerNames(WgDevice device, Action<string> warn = null)
        {
            var path = WgTroubleshoot.Config.WgConfigLocation.PathForConfigOrNull(device.Interface.Name);
            if (path == null || !File.Exists(path)) return;
            Dictionary<string, string> names;
            try
            {
                names = PeerNames.Read(path);
            }
            catch (WgException ex)
            {
                warn?.Invoke($"Peer names for '{device.Interface.Name}' are not shown: {ex.Message}");
                return;
            }
            catch (IOException ex)
            {
                warn?.Invoke($"Peer names for '{device.Interface.Name}' are not shown: {ex.Message}");
                return;
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
            foreach (var p in device.Peers)
                if (p.PublicKey != null && names.TryGetValue(p.PublicKey, out var n)) p.Name = n;
        }
    }
}
