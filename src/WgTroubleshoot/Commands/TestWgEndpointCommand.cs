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

    /// <summary>The shared walk of Test-WgEndpoint and Update-WgEndpoint (Remedies.EndpointRemedy.Review), reporting through the cmdlet.</summary>
    internal static class EndpointReview
    {
        public static List<EndpointStatus> Run(WgCmdlet cmdlet, Native.INativeRunner runner, string[] interfaces, string[] publicKeys)
            => Remedies.EndpointRemedy.Review(runner, interfaces, publicKeys, ex => cmdlet.WriteError(ex.ToErrorRecord()), cmdlet.WriteWarning, cmdlet.WriteVerbose);
    }
}
