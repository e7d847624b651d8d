using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Checks whether peers configured with a host name still use the address the name resolves to now.</para>
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "WgEndpoint")]
    [OutputType(typeof(EndpointStatus))]
    public sealed class TestWgEndpointCommand : WgCmdlet
    {
        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Only the peers with these public keys.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] PublicKey { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                foreach (var s in EndpointReview.Run(this, Runner, Interface, PublicKey)) WriteObject(s);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }

    /// <summary>The shared walk of Test-WgEndpoint and Update-WgEndpoint: live interfaces, their configs, host-name peers.</summary>
    internal static class EndpointReview
    {
        public static List<EndpointStatus> Run(WgCmdlet cmdlet, Native.INativeRunner runner, string[] interfaces, string[] publicKeys)
        {
            var results = new List<EndpointStatus>();
            var reader = new WgStateReader(runner);
            var checker = new EndpointChecker(h => EndpointChecker.SystemResolve(h, TimeSpan.FromSeconds(5)), a => EndpointChecker.HasRoute(runner, a));
            foreach (var dev in reader.Read(interfaces, ex => cmdlet.WriteError(ex.ToErrorRecord())))
            {
                var path = WgConfigLocation.PathForConfigOrNull(dev.Interface.Name);
                if (path == null || !File.Exists(path))
                {
                    cmdlet.WriteWarning($"{dev.Interface.Name}: no configuration file ({path}), so no configured host names to compare.");
                    continue;
                }
                WgConfig config;
                try
                {
                    config = WgConfigParser.ParseFile(path);
                }
                catch (WgException ex)
                {
                    cmdlet.WriteError(ex.ToErrorRecord());
                    continue;
                }
                var named = config.Peers.Where(p => EndpointChecker.IsHostName(p.EndpointHost)).ToList();
                if (config.SaveConfig && named.Count > 0)
                    cmdlet.WriteWarning($"{config.Path} has SaveConfig = true and host-name endpoints ({string.Join(", ", named.Select(p => p.EndpointHost).Distinct())}): "
                                        + "wg-quick down rewrites the file from the live state and replaces the names with their current addresses. Set SaveConfig = false to keep dynamic DNS working.");
                foreach (var p in named)
                {
                    if (publicKeys != null && Array.IndexOf(publicKeys, p.PublicKey) < 0) continue;
                    var live = dev.Peers.FirstOrDefault(x => x.PublicKey == p.PublicKey);
                    if (live == null)
                    {
                        cmdlet.WriteWarning($"{dev.Interface.Name}: peer {p.Name ?? p.PublicKey} is in {config.Path} but not on the live interface.");
                        continue;
                    }
                    cmdlet.WriteVerbose($"Resolving '{p.EndpointHost}' for peer {p.Name ?? p.PublicKey}.");
                    var s = checker.Check(config, p, live);
                    if (s.AddressFamilyWarning != null) cmdlet.WriteWarning(s.AddressFamilyWarning);
                    results.Add(s);
                }
            }
            return results;
        }
    }
}
