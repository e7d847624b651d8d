using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Commands;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Mtu;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remedies
{
    /// <summary>Sets a WireGuard interface's MTU, live and/or in its configuration (Set-WgMtu, and the repair of MtuBlackhole).</summary>
    public static class MtuRemedy
    {
        /// <param name="mtuFor">The MTU to set for the interface read (a fixed value, or a measurement for -Auto).</param>
        public static List<ChangeRecord> Set(RemedyContext ctx, string iface, Func<WgDevice, int> mtuFor, MtuScope scope)
        {
            var dev = LinkRemedy.ReadWireGuard(ctx.Runner, iface, "Setting the MTU of " + iface);
            int mtu = mtuFor(dev);
            MtuRepair.Validate(dev.Interface.Name, mtu, dev.Interface.Addresses);
            var steps = new List<RepairStep>();
            if (scope != MtuScope.Config) steps.Add(MtuRepair.PlanLive(ctx.Runner, dev.Interface.Name, dev.Interface.Mtu, mtu));
            if (scope != MtuScope.Live)
            {
                var cfg = Config.WgConfigLocation.PathForInterface(dev.Interface.Name);
                if (File.Exists(cfg)) steps.Add(MtuRepair.PlanConfig(cfg, mtu));
                else if (scope == MtuScope.Config)
                    throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound, $"{cfg} does not exist.", cfg);
                else ctx.Warn($"{cfg} does not exist: the MTU is set on the running interface only.");
            }
            return ctx.Execute("Setting the MTU", steps);
        }
    }

    /// <summary>Brings a WireGuard interface up (the repair of InterfaceDown); refuses any link that is not a WireGuard interface.</summary>
    public static class LinkRemedy
    {
        /// <summary>The peers' AllowedIPs (no default routes) that have no route to exactly that prefix in the main table now.</summary>
        internal static List<string> RoutesToRestore(RemedyContext ctx, WgDevice dev)
        {
            var result = new List<string>();
            if (!ctx.Runner.IsAvailable("ip")) return result;
            var path = Config.WgConfigLocation.PathForConfigOrNull(dev.Interface.Name);
            if (path != null && System.IO.File.Exists(path))
            {
                try
                {
                    var table = Config.WgConfigParser.ParseFile(path).Table;
                    if (table != null && !table.Equals("auto", StringComparison.OrdinalIgnoreCase)) return result;
                }
                catch (Exception ex) when (ex is WgException || ex is IOException || ex is UnauthorizedAccessException) { return result; }
            }
            foreach (var prefix in dev.Peers.SelectMany(p => p.AllowedIPs ?? new string[0]).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (string.IsNullOrWhiteSpace(prefix) || prefix.EndsWith("/0", StringComparison.Ordinal)) continue;
                if (Liveness.TunnelProbe.ParsePrefix(prefix) == null || !System.Text.RegularExpressions.Regex.IsMatch(prefix, "^[0-9A-Fa-f:./]+$")) continue;
                var fam = prefix.Contains(":") ? "-6" : "-4";
                var r = ctx.Runner.Run("ip", new[] { fam, "route", "show", "exact", prefix });
                if (r.Success && r.StdOut.Trim().Length == 0) result.Add(prefix);
            }
            return result;
        }

        /// <summary>
        /// The live WireGuard device of that name with its link details. Not a WireGuard interface here:
        /// WgInterfaceNotFound. No privilege to read WireGuard state: WgPermissionDenied naming what could not be read.
        /// </summary>
        public static WgDevice ReadWireGuard(Native.INativeRunner runner, string iface, string what)
        {
            if (!Config.WgConfigLocation.IsValidInterfaceName(iface))
                throw new WgException(ErrorIds.InvalidInterfaceName, ErrorCategory.InvalidArgument, $"'{iface}' is not a valid interface name.", iface);
            var reader = new WgStateReader(runner);
            List<WgDevice> devices;
            WgException missing = null;
            try
            {
                devices = reader.Read(new[] { iface }, ex => missing = ex);
            }
            catch (WgException ex) when (ex.Category == ErrorCategory.PermissionDenied)
            {
                throw PrivilegeCheck.CannotRead(iface, what, ex);
            }
            if (devices.Count == 0)
            {
                // Without root, wg cannot read an interface that exists: say so instead of "not found".
                if (IpInfo.LinkExists(iface) && !Changes.Privilege.IsElevated()) throw PrivilegeCheck.CannotRead(iface, what, missing);
                throw missing ?? WgStateReader.NotFound(iface);
            }
            reader.AddLinkDetails(devices);
            return devices[0];
        }

        public static List<ChangeRecord> Up(RemedyContext ctx, string iface)
        {
            var dev = ReadWireGuard(ctx.Runner, iface, "Bringing " + iface + " up");
            const string action = "Bring the interface up";
            if (dev.Interface.IsUp) return new List<ChangeRecord> { Changes.Transaction.Unchanged(iface, action, "up") };
            var cmd = new NativeCommand("ip", "link", "set", "dev", dev.Interface.Name, "up");
            if (!ctx.ShouldProcess(dev.Interface.Name, cmd.CommandLine)) return new List<ChangeRecord>();
            Changes.Privilege.Demand("Bringing an interface up");
            var rec = ctx.Transaction.Begin(dev.Interface.Name, action, "down");
            ctx.Transaction.Run(rec, action, cmd, new NativeCommand("ip", "link", "set", "dev", dev.Interface.Name, "down"));
            rec.After = "up";
            // Taking a link down deletes every route through it; up brings back only the routes of its own
            // addresses. The routes to the peers' AllowedIPs (what wg-quick adds) are restored where no route to
            // exactly that prefix exists now; never a default route (wg-quick routes those by policy), never with
            // Table = off in the configuration.
            var restored = new List<string>();
            foreach (var prefix in RoutesToRestore(ctx, dev))
            {
                var fam = prefix.Contains(":") ? "-6" : "-4";
                var add = new NativeCommand("ip", fam, "route", "add", prefix, "dev", dev.Interface.Name);
                ctx.Transaction.Run(rec, "Restore the route to " + prefix, add, new NativeCommand("ip", fam, "route", "del", prefix, "dev", dev.Interface.Name));
                restored.Add(prefix);
            }
            if (restored.Count > 0) rec.After = "up; routes restored: " + string.Join(", ", restored);
            return new List<ChangeRecord> { rec };
        }
    }

    /// <summary>The PermissionDenied errors of a run without the privilege to read or change WireGuard state.</summary>
    public static class PrivilegeCheck
    {
        public static WgException CannotRead(string iface, string what, Exception inner = null)
            => new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                $"{what} needs root (with CAP_NET_ADMIN): the WireGuard state of '{iface}' (wg show {iface}) could not be read without it. Nothing was changed. Run PowerShell as root (for example: sudo pwsh).", iface, inner);
    }
}
