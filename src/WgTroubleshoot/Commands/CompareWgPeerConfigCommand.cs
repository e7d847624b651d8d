using System.Collections.Generic;
using System.Management.Automation;
using WgTroubleshoot.Lint;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Checks the two ends of a WireGuard tunnel against each other: keys, preshared key, port and AllowedIPs.</para>
    /// <para type="description">Reads two configuration files and returns a ConfigFinding for every way the two ends
    /// disagree: a [Peer] PublicKey that is not the other side's public key (derived from its PrivateKey), preshared
    /// keys that differ, an Endpoint port that is not the other side's ListenPort, and AllowedIPs that do not cover
    /// the other side's Address. Two ends that match give no output. Keys other than public keys are never shown.</para>
    /// </summary>
    [Cmdlet(VerbsData.Compare, "WgPeerConfig")]
    [OutputType(typeof(ConfigFinding))]
    public sealed class CompareWgPeerConfigCommand : PSCmdlet
    {
        private readonly List<string> _files = new List<string>();

        /// <summary>The two configuration files, one for each end of the tunnel (wildcards allowed; file objects pipe in).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        /// <summary>Collects the files.</summary>
        protected override void ProcessRecord()
        {
            foreach (var p in Path) _files.AddRange(ConfigFileResolver.FromPath(this, p));
        }

        /// <summary>Compares the two files once all input is in.</summary>
        protected override void EndProcessing()
        {
            if (_files.Count != 2)
            {
                ThrowTerminatingError(new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"Compare-WgPeerConfig needs exactly two configuration files, one for each end of the tunnel; it got {_files.Count}.", _files.ToArray()).ToErrorRecord());
            }
            var ends = new LintFile[2];
            for (int i = 0; i < 2; i++)
            {
                WgCmdlet.VerboseOrDebug(this, $"Reading '{_files[i]}'.");
                try
                {
                    ends[i] = LintFile.Read(_files[i]);
                }
                catch (WgException ex)
                {
                    ThrowTerminatingError(ex.ToErrorRecord());
                }
            }
            var findings = PeerConfigComparer.Compare(ends[0], ends[1]);
            WgCmdlet.VerboseOrDebug(this, findings.Count == 0 ? "The two ends match." : $"{findings.Count} finding{(findings.Count == 1 ? "" : "s")}.");
            foreach (var f in findings) WriteObject(f);
        }
    }
}
