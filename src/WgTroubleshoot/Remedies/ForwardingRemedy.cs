using WgTroubleshoot.Native;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remedies
{
    /// <summary>
    /// Turns forwarding on or off (runtime sysctls and the persistent sysctl.d file) and, with NAT, masquerading
    /// of the tunnel's subnet out of the uplink, now and as PostUp/PostDown lines of the interface's configuration
    /// (Enable-/Disable-WgForwarding, and the repair of ForwardingDisabled, NatMissing and ForwardPathBlocked).
    /// </summary>
    public static class ForwardingRemedy
    {
        public static List<ChangeRecord> Set(RemedyContext ctx, bool enable, string iface, bool ipv6, bool nat, string outInterface, SysctlSettings sysctl = null)
        {
            var repair = new ForwardingRepair(ctx.Runner, sysctl ?? new SysctlSettings());
            var steps = new List<RepairStep>(repair.PlanSysctl(enable, ipv6));
            if (nat) steps.AddRange(PlanNat(ctx, repair, enable, iface, ipv6, outInterface));
            return ctx.Execute((enable ? "Enabling" : "Disabling") + " forwarding", steps);
        }

        private static IEnumerable<RepairStep> PlanNat(RemedyContext ctx, ForwardingRepair repair, bool enable, string ifaceName, bool ipv6, string outInterface)
        {
            var reader = new WgStateReader(ctx.Runner);
            var devices = reader.Read(ifaceName == null ? null : new[] { ifaceName }, ex => throw ex);
            if (devices.Count != 1)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    devices.Count == 0 ? "No WireGuard interface exists here to masquerade for." : "Several WireGuard interfaces exist: name one with -Interface.", ifaceName);
            reader.AddLinkDetails(devices);
            var iface = devices[0].Interface;
            var subnets = iface.Addresses.Select(Config.IpPrefix.NetworkOf)
                .Where(n => n != null && !n.StartsWith("fe80:", System.StringComparison.OrdinalIgnoreCase) && (ipv6 || n.IndexOf(':') < 0))
                .Distinct().ToList();
            if (subnets.Count == 0)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"{iface.Name} has no addresses: there is no tunnel subnet to masquerade.", iface.Name);
            var uplink = outInterface ?? new ForwardingReader(ctx.Runner).DefaultRouteDevice(false);
            if (uplink == null)
                throw new WgException(ErrorIds.NoRoute, ErrorCategory.ConnectionError, "There is no IPv4 default route to find the uplink from: name it with -OutInterface.", iface.Name);
            InterfaceName.Validate(uplink, outInterface != null ? "-OutInterface" : "uplink");
            if (!IpInfo.LinkExists(uplink))
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, $"The uplink '{uplink}' does not exist.", uplink);
            ctx.Verbose($"Masquerading {string.Join(", ", subnets)} from {iface.Name} out of {uplink}.");
            var rules = repair.Rules(iface.Name, subnets, uplink);
            var steps = new List<RepairStep> { repair.PlanNatLive(iface.Name, subnets, uplink, enable) };
            var cfg = Config.WgConfigLocation.PathForInterface(iface.Name);
            if (File.Exists(cfg)) steps.Add(repair.PlanNatConfig(cfg, rules, enable));
            else ctx.Warn($"{cfg} does not exist: the NAT rules are applied now but will not come back when the tunnel is restarted.");
            return steps;
        }
    }
}
