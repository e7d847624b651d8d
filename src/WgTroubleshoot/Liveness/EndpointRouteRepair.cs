using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Liveness
{
    /// <summary>
    /// The repair of EndpointRoutedIntoTunnel: a host route to the endpoint via the gateway of the default route that
    /// does not use the tunnel (what wg-quick's fwmark rules achieve for a full tunnel). Undo deletes that route.
    /// Every value is validated, and the loop is checked again live, before anything runs.
    /// </summary>
    public static class EndpointRouteRepair
    {
        private static readonly Regex LinkName = new Regex("^[a-zA-Z0-9_=+.-]{1,15}$");

        /// <summary>A default route ("default via GW dev DEV ...") that does not leave by <paramref name="tunnel"/>; null when none.</summary>
        public static Tuple<string, string> UplinkGateway(string defaultRoutes, string tunnel)
        {
            foreach (var raw in (defaultRoutes ?? "").Split('\n'))
            {
                var m = Regex.Match(raw, @"^\s*default\s+via\s+(\S+)\s+dev\s+(\S+)");
                if (m.Success && m.Groups[2].Value != tunnel && IPAddress.TryParse(m.Groups[1].Value, out _)) return Tuple.Create(m.Groups[1].Value, m.Groups[2].Value);
            }
            return null;
        }

        /// <summary>The repair data of a finding: Endpoint, Via, Dev (all validated); null when incomplete or invalid.</summary>
        public static NativeCommand[] Commands(FindingRef f)
        {
            var ep = f.Data("Endpoint"); var via = f.Data("Via"); var dev = f.Data("Dev");
            if (!IPAddress.TryParse(ep ?? "", out var epa) || !IPAddress.TryParse(via ?? "", out var gwa)) return null;
            if (dev == null || !LinkName.IsMatch(dev) || dev == f.Interface) return null;
            if (epa.AddressFamily != gwa.AddressFamily) return null;
            var fam = epa.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "-6" : "-4";
            var host = epa + (fam == "-6" ? "/128" : "/32");
            return new[]
            {
                new NativeCommand("ip", fam, "route", "replace", host, "via", gwa.ToString(), "dev", dev),
                new NativeCommand("ip", fam, "route", "del", host, "via", gwa.ToString(), "dev", dev),
            };
        }

        public static string Describe(FindingRef f)
        {
            var c = Commands(f);
            return c == null ? null : c[0].CommandLine;
        }

        public static IList<ChangeRecord> Apply(Remedies.RemedyContext ctx, FindingRef f)
        {
            var runner = ctx.Runner;
            var c = Commands(f) ?? throw new WgException(ErrorIds.InvalidArgument, System.Management.Automation.ErrorCategory.InvalidArgument,
                "The EndpointRoutedIntoTunnel finding carries no valid Endpoint, Via and Dev.", f.Id);
            if (!State.IpInfo.LinkExists(f.Data("Dev")))
                throw new WgException(ErrorIds.InvalidArgument, System.Management.Automation.ErrorCategory.InvalidArgument, $"The uplink '{f.Data("Dev")}' does not exist.", f.Data("Dev"));
            // Still a loop right now? (A finding replayed later must not add a route that is no longer needed.)
            var fam = c[0].Arguments[0];
            var now = runner.Run("ip", new[] { fam, "route", "get", f.Data("Endpoint") }, TimeSpan.FromSeconds(5));
            if (!now.Success || TunnelProbe.RouteDevice(now.StdOut) != f.Interface)
                return new[] { new ChangeRecord { Target = f.Interface, Action = "Route the endpoint outside the tunnel", Changed = false, Before = TunnelProbe.RouteLine(now.StdOut), After = TunnelProbe.RouteLine(now.StdOut) } };
            const string action = "Route the endpoint outside the tunnel";
            if (!ctx.ShouldProcess(c[0].CommandLine, action)) return new ChangeRecord[0];
            Changes.Privilege.Demand(action);
            var rec = ctx.Transaction.Begin(f.Interface, action, TunnelProbe.RouteLine(now.StdOut));
            ctx.Transaction.Run(rec, action, c[0], c[1]);
            rec.After = c[0].CommandLine;
            return new[] { rec };
        }
    }
}
