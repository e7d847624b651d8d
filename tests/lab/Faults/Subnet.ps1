# Addressing faults: the local LAN uses the subnet of the remote LAN behind the server. Everything created
# here lives inside the lab's own namespaces; link names made here carry the prefix wga plus a random part.
# The Add makes its symptom show at once; the Remove restores the healthy lab.

Register-LabFault -Name 'LocalSubnetConflict' -Side 'client' -Symptom 'The client joined a LAN ("this Wi-Fi": a veth wga<random> with 192.0.2.140/25) that uses the subnet of the network behind the server, 192.0.2.128/25, which the client''s AllowedIPs route through the tunnel. The LAN was there first, so the tunnel''s route for 192.0.2.128/25 could not be added (File exists, as wg-quick up would find): `ip route get 192.0.2.130` leaves by the LAN. The handshake and 192.0.2.1 work; ping and TCP to 192.0.2.130 fail.' -Add {
    param($Lab, $Node)
    $c = $Lab.Client; $ns = $c.Namespace
    $lan = 'wga' + (-join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) }))
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'add', $lan, 'type', 'veth', 'peer', 'name', "${lan}p"
    $Lab.FaultState['LocalSubnetConflict'] = @{ Link = $lan }
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'set', "${lan}p", 'up'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'set', $lan, 'up'
    # the LAN comes first: the tunnel's route goes, the LAN's address brings its connected route, and the
    # tunnel's route cannot be added back over it
    foreach ($r in $c.ExtraRoutes | Where-Object { $_ -notmatch ':' }) { $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'del', $r, 'dev', $c.Interface -AllowFailure }
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', '192.0.2.140/25', 'dev', $lan
    foreach ($r in $c.ExtraRoutes | Where-Object { $_ -notmatch ':' }) { $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'add', $r, 'dev', $c.Interface -AllowFailure }
} -Remove {
    param($Lab)
    $c = $Lab.Client; $ns = $c.Namespace
    $st = $Lab.FaultState['LocalSubnetConflict']
    if ($st.Link) { $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'del', $st.Link -AllowFailure }
    Set-LabWgLinkUp $Lab client
}
