using System;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the live peers of WireGuard interfaces: endpoint, handshake, transfer.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgPeer")]
    [OutputType(typeof(WgPeer))]
    public sealed class GetWgPeerCommand : WgCmdlet
    {
        /// <summary>Interface names; wildcards are allowed. All interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Only the peers with these public keys. Not bound from the pipeline: interface objects carry their own PublicKey.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] PublicKey { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                if (PublicKey != null)
                    foreach (var k in PublicKey.Where(k => !Keys.WgKey.IsValid(k)))
                        WriteWgError(new WgException(ErrorIds.InvalidKey, ErrorCategory.InvalidArgument,
                            $"'{k}' is not a WireGuard public key (44 characters of base64 that encode 32 bytes).", k));
                var reader = new WgStateReader(Runner);
                var devices = reader.Read(Interface, WriteWgError);
                var found = new bool[PublicKey?.Length ?? 0];
                foreach (var dev in devices)
                {
                    WgStateReader.AddPeerNames(dev, WriteWarning);
                    foreach (var peer in dev.Peers)
                    {
                        if (PublicKey != null)
                        {
                            int i = Array.IndexOf(PublicKey, peer.PublicKey);
                            if (i < 0) continue;
                            found[i] = true;
                        }
                        WriteObject(peer);
                    }
                }
                for (int i = 0; i < found.Length; i++)
                    if (!found[i] && Keys.WgKey.IsValid(PublicKey[i]))
                        WriteWgError(new WgException(ErrorIds.PeerNotFound, ErrorCategory.ObjectNotFound,
                            $"No peer with public key '{PublicKey[i]}' on {(Interface == null ? "any WireGuard interface" : string.Join(", ", Interface))}.", PublicKey[i]));
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
