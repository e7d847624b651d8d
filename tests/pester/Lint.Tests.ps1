# Test-WgConfig and Compare-WgPeerConfig as a user runs them, on temporary files.
BeforeAll {
    Import-Module $env:WGT_MODULE -Force

    function New-KeyPair {
        if (Get-Command wg -CommandType Application -ErrorAction SilentlyContinue) {
            $private = (wg genkey).Trim()
            [pscustomobject]@{ Private = $private; Public = ($private | wg pubkey).Trim() }
        }
        else {
            # Without wg: 32 random bytes; the module derives the public key itself.
            $bytes = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
            $private = [Convert]::ToBase64String($bytes)
            [pscustomobject]@{ Private = $private; Public = [WgTroubleshoot.Keys.WgKey]::PublicFromPrivate($private) }
        }
    }
    function New-Psk {
        $bytes = [byte[]]::new(32); [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        [Convert]::ToBase64String($bytes)
    }
    function Write-Conf([string] $Name, [string] $Text) {
        $path = Join-Path $script:Dir $Name
        [System.IO.File]::WriteAllText($path, $Text)
        if (-not $IsWindows) { chmod 600 $path }
        $path
    }

    $script:Dir = Join-Path ([System.IO.Path]::GetTempPath()) ("wgt-lint-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $Dir
    $script:Server = New-KeyPair
    $script:Laptop = New-KeyPair
    $script:Psk = New-Psk
    $script:OtherPsk = New-Psk
    $script:Secrets = @($Server.Private, $Laptop.Private, $Psk, $OtherPsk)

    $script:ServerConf = Write-Conf 'server.conf' @"
[Interface]
Address = 10.8.0.1/24
ListenPort = 51820
PrivateKey = $($Server.Private)

# laptop
[Peer]
PublicKey = $($Laptop.Public)
PresharedKey = $Psk
AllowedIPs = 10.8.0.2/32
"@
    $script:LaptopConf = Write-Conf 'laptop.conf' @"
[Interface]
PrivateKey = $($Laptop.Private)
Address = 10.8.0.2/32

[Peer]
PublicKey = $($Server.Public)
PresharedKey = $Psk
Endpoint = 203.0.113.10:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 25
"@
    # The same laptop with everything wrong: the server's key replaced by its own, another PSK, the wrong port.
    $script:BrokenDir = Join-Path $Dir 'broken'
    $null = New-Item -ItemType Directory -Path $BrokenDir
    $script:BrokenLaptop = Join-Path $BrokenDir 'laptop.conf'
    [System.IO.File]::WriteAllText($BrokenLaptop, (Get-Content -Raw $LaptopConf).Replace($Server.Public, $Laptop.Public).Replace($Psk, $OtherPsk).Replace(':51820', ':51999'))
    $script:BadConf = Write-Conf 'bad.conf' @"
[Interface]
PrivateKey = $($Server.Private)
ListenPort = 51820
Address = 10.9.0.1/24
MTU = big
"@
}

AfterAll {
    if ($script:Dir -and (Test-Path $script:Dir)) { Remove-Item $script:Dir -Recurse -Force }
}

Describe 'Test-WgConfig' {
    It 'keeps the errors of a folder of files in a pipeline' {
        $errors = Get-ChildItem (Join-Path $Dir '*.conf') | Test-WgConfig | Where-Object Severity -eq Error
        $errors | ForEach-Object { $_ | Should -BeOfType WgTroubleshoot.ConfigFinding }
        ($errors | Where-Object { $_.File -eq $BadConf }).Id | Should -Be 'WG1001'
        ($errors | Where-Object { $_.File -eq $BadConf }).Line | Should -Be 5
        # server.conf comes after bad.conf and has its ListenPort: WG1015 on the later file.
        ($errors | Where-Object { $_.File -eq $ServerConf }).Id | Should -BeNullOrEmpty
        $errors.File | Should -Not -Contain $LaptopConf
    }
    It 'takes Get-WgConfig output by its Path' {
        Get-WgConfig -Path $LaptopConf | Test-WgConfig | Should -BeNullOrEmpty
        $own = Get-WgConfig -Path $BrokenLaptop | Test-WgConfig
        $own.Id | Should -Contain 'WG1004'
        ($own | Where-Object Id -eq 'WG1004').Cause | Should -Be 'KeyMismatch'
    }
    It 'finds a ListenPort used by two files' {
        $copy = Write-Conf 'wg9.conf' (Get-Content -Raw $ServerConf)
        try {
            $f = Test-WgConfig -Path $ServerConf, $copy | Where-Object Id -eq 'WG1015'
            $f.File | Should -Be $copy
            $f.Fix | Should -Match '^ListenPort = 51821'
        }
        finally { Remove-Item $copy }
    }
    It 'returns one Boolean with -Quiet' {
        Test-WgConfig -Path $LaptopConf -Quiet | Should -BeTrue
        Test-WgConfig -Path $LaptopConf, $BadConf -Quiet | Should -BeFalse
    }
    It 'tells to chmod a file others can read' -Skip:$IsWindows {
        chmod 644 $LaptopConf
        try {
            $f = Test-WgConfig -Path $LaptopConf
            $f.Id | Should -Be 'WG1012'
            $f.Fix | Should -Be "chmod 600 '$LaptopConf'"
        }
        finally { chmod 600 $LaptopConf }
    }
    It 'writes an error for a missing file and goes on' {
        $out = Test-WgConfig -Path (Join-Path $Dir 'missing.conf'), $BadConf -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Match '^WgConfigNotFound'
        $out.Id | Should -Contain 'WG1001'
    }
    It 'shows findings as a table of Severity, Id, Line, Message and Fix' {
        $text = Test-WgConfig -Path $BadConf | Format-Table | Out-String -Width 250
        $text | Should -Match 'Severity\s+Id\s+Line\s+Message\s+Fix'
        $text | Should -Match 'Error\s+WG1001\s+5\s'
    }
}

Describe 'Compare-WgPeerConfig' {
    It 'finds nothing wrong with two matching ends' {
        Compare-WgPeerConfig -Path $ServerConf, $LaptopConf -Verbose 4>&1 | ForEach-Object { $_ | Should -BeOfType System.Management.Automation.VerboseRecord }
    }
    It 'names each cause of two ends that do not match' {
        $f = Get-ChildItem $ServerConf, $BrokenLaptop | Compare-WgPeerConfig
        $f.Cause | Sort-Object -Unique | Should -Be @('KeyMismatch', 'PortMismatch', 'PresharedKeyMismatch')
        $key = $f | Where-Object Cause -eq KeyMismatch
        $key.File | Should -Be $BrokenLaptop
        $key.Fix | Should -BeLike "PublicKey = $($Server.Public)*"
        ($f | Where-Object Cause -eq PortMismatch).Fix | Should -Be 'Endpoint = 203.0.113.10:51820'
    }
    It 'needs exactly two files' {
        { Compare-WgPeerConfig -Path $ServerConf -ErrorAction Stop } | Should -Throw -ErrorId 'WgInvalidArgument,WgTroubleshoot.Commands.CompareWgPeerConfigCommand'
    }
}

Describe 'No private or preshared key in any output' {
    It 'appears in no stream, no formatted view and no CliXml' {
        $run = {
            $ErrorActionPreference = 'Continue' # the missing file is an error record that must be checked too
            Get-ChildItem (Join-Path $Dir '*.conf') | Test-WgConfig -Verbose
            Test-WgConfig -Path $BrokenLaptop, (Join-Path $Dir 'missing.conf') -Verbose
            Compare-WgPeerConfig -Path $ServerConf, $BrokenLaptop -Verbose
            Compare-WgPeerConfig -Path $ServerConf, $LaptopConf -Verbose
            Compare-WgPeerConfig -Path $ServerConf, $BadConf -Verbose
        }
        $all = & $run *>&1
        $all.Count | Should -BeGreaterThan 5
        @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count | Should -Be 1
        @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Count | Should -BeGreaterThan 3
        $texts = @(
            ($all | Out-String -Width 500)
            ($all | Format-List * -Force | Out-String -Width 500)
            ($all | Where-Object { $_ -is [WgTroubleshoot.ConfigFinding] } | Format-Table | Out-String -Width 500)
            ($all | ForEach-Object { $_.ToString() }) -join "`n"
        )
        $xml = Join-Path $Dir 'out.clixml'
        $all | Export-Clixml -Path $xml -Depth 5
        $texts += Get-Content -Raw $xml
        Remove-Item $xml
        foreach ($t in $texts) {
            foreach ($s in $Secrets) { $t.Contains($s) | Should -BeFalse -Because 'key material must never be output' }
        }
    }
}

Describe 'Paths with wildcard characters and directories' {
    BeforeAll {
        $script:Bracket = Join-Path $Dir 'a[b].conf'
        [System.IO.File]::WriteAllText($Bracket, (Get-Content -Raw $LaptopConf))
        if (-not $IsWindows) { chmod 600 $Bracket }
        $script:SubDir = Join-Path $Dir 'folder.conf'
        $null = New-Item -ItemType Directory -Path $SubDir
    }

    It 'Get-WgConfig -LiteralPath reads a[b].conf' {
        $c = Get-WgConfig -LiteralPath $Bracket -ErrorAction Stop
        $c.Interface | Should -Be 'a[b]'
        $c.PeerCount | Should -Be 1
    }

    It 'Get-Item a[b].conf piped to Get-WgConfig and Test-WgConfig reads the file' {
        $c = Get-Item -LiteralPath $Bracket | Get-WgConfig -ErrorAction Stop
        $c.Interface | Should -Be 'a[b]'
        $errs = $null
        $f = Get-Item -LiteralPath $Bracket | Test-WgConfig -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -BeNullOrEmpty
        (Get-Item -LiteralPath $Bracket | Test-WgConfig -Quiet) | Should -BeTrue
    }

    It 'Get-WgConfig -Path does not expand wildcards, as its help says' {
        $errs = $null
        $out = Get-WgConfig -Path (Join-Path $Dir '*.conf') -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'WgConfigNotFound*'
    }

    It 'a directory is named as a directory, not as missing root' {
        $errs = $null
        $null = Get-WgConfig -LiteralPath $SubDir -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].Exception.Message | Should -Match 'is a directory'
        $errs[0].Exception.Message | Should -Not -Match 'root'
        $errs = $null
        $null = Test-WgConfig -LiteralPath $SubDir -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].Exception.Message | Should -Match 'is a directory'
    }

    It 'Test-WgConfig reports both malformed lines of one file' {
        $two = Join-Path $Dir 'two.conf'
        [System.IO.File]::WriteAllText($two, "[Interface]`nPrivateKey = $($Server.Private)`n[Peer]`nPublicKey = not-a-key=`nAllowedIPs = 10.0.0.300/32`n")
        $f = Test-WgConfig -LiteralPath $two
        ($f | Where-Object Id -in 'WG1001', 'WG1002').Line | Sort-Object | Should -Be @(4, 5)
        $all = ($f | ForEach-Object { $_.Message; $_.Fix }) -join "`n"
        foreach ($s in $Secrets) { $all | Should -Not -Match ([regex]::Escape($s.Substring(0, 10))) }
        Remove-Item $two
    }
}
