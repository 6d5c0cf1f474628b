# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pdsctl_global_optspecs
    string join \n socket= json y/yes h/help V/version
end

function __fish_pdsctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pdsctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pdsctl_using_subcommand
    set -l cmd (__fish_pdsctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pdsctl -n "__fish_pdsctl_needs_command" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_needs_command" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses, accounts, storage, PLC directory, relays and firehose position'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "account" -d 'Create, list, inspect and manage hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "invite" -d 'Make invite codes'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "did" -d 'Inspect an account\'s did:plc identity, or rotate its signing key'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "oauth" -d 'Show and revoke the third-party apps an account has authorized with OAuth'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "device" -d 'This machine as a device of an account on a relay (over HTTPS, like the phone and desktop apps): enrol, list, promote to repo host, remove'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "desktop" -d 'This machine as the repo-host desktop: keep the repo here, build commits, have the relay sign them'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "export" -d 'Export an account (repository CAR and every blob) into a folder'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "import" -d 'Import an exported folder into this pdsd, creating or migrating the account'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "backup" -d 'Shamir backup of the account\'s rotation key: 2 of 3 shares (this machine\'s keychain, the relay\'s escrow, a printed recovery sheet)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "recover" -d 'Take back an account with two of its three shares: prove the rotation key to the relay and enrol this machine, or move the DID to a new pdsd when the relay is gone'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "transfer" -d 'Move to a new device with a short code (and hand the repo-host lease over)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "generate" -d 'Write man pages or shell completions (keeps man/ and completions/ current)'
complete -c pdsctl -n "__fish_pdsctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and not __fish_seen_subcommand_from create list show deactivate activate delete reset-password takedown untakedown help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l handle -d 'The handle, e.g. alice.pds.example.com (under one of the server\'s handle domains)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l email -d 'The account\'s e-mail address' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l password-file -d 'Read the password from FILE (its first line) instead of asking' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l recovery-key -d 'The user\'s existing rotation key (did:key), placed first in rotationKeys' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l generate-recovery-key -d 'Make the user\'s rotation key here, write it to FILE (mode 0600; never overwritten) and place it first in rotationKeys. Keep FILE offline: it controls the identity' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l curve -d 'Curve of the generated recovery key' -r -f -a "secp256k1\t''
p256\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from deactivate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from activate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l password-file -d 'Read the new password from FILE (its first line) instead of asking' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from reset-password" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l reference -d 'A reference for your moderation records (default: made by pdsd)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from takedown" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from untakedown" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand account; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and not __fish_seen_subcommand_from create help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l uses -d 'How many accounts each code may create' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l count -d 'How many codes to make' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l for-account -d 'Attribute the codes to this account (a DID) instead of the server' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand invite; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and not __fish_seen_subcommand_from show rotate-signing-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from rotate-signing-key" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand did; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and not __fish_seen_subcommand_from list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand oauth; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -f -a "enroll" -d 'Enrol this machine as a device of an account on a relay (a new P-256 key, kept in pdsctl\'s data folder with mode 0600)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -f -a "list" -d 'List the account\'s devices (pending and active), as this device sees them'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -f -a "promote" -d 'Make a desktop the account\'s repo host (desktop-enrolled mode): it builds the commits, the relay signs them. Promoting this machine also fetches its copy of the repo'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -f -a "remove" -d 'De-enrol a device: its key no longer authenticates (and leaves the DID\'s rotation keys if it was there). Removing this machine also deletes its key file'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and not __fish_seen_subcommand_from enroll list promote remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l relay -d 'The relay\'s URL (https://...)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l account -d 'The account, by handle or DID' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l name -d 'A name for this machine (default: its host name)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l platform -d 'This machine\'s platform (default: the one pdsctl runs on)' -r -f -a "linux\t''
macos\t''
windows\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l password-file -d 'Sign in with the password in FILE (first line); the device is active at once. Without it and without --pair, pdsctl asks for the password' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l wait -d 'With --pair: wait up to SECS for the approval (0: do not wait)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l pair -d 'Enrol without a password: the device is pending until an enrolled device confirms the pairing code pdsctl shows'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from enroll" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from promote" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "enroll" -d 'Enrol this machine as a device of an account on a relay (a new P-256 key, kept in pdsctl\'s data folder with mode 0600)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the account\'s devices (pending and active), as this device sees them'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Make a desktop the account\'s repo host (desktop-enrolled mode): it builds the commits, the relay signs them. Promoting this machine also fetches its copy of the repo'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "remove" -d 'De-enrol a device: its key no longer authenticates (and leaves the DID\'s rotation keys if it was there). Removing this machine also deletes its key file'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -f -a "sync" -d 'Bring this machine\'s copy of the repo in step with the relay and send local changes (built here, signed by the relay)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and not __fish_seen_subcommand_from sync help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l put -d 'Create or replace the record COLLECTION/RKEY with the JSON record in FILE (it carries its `$type`). Repeatable; all changes go in one commit' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l create -d 'Create a record in COLLECTION under a new TID key, from the JSON in FILE' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l delete -d 'Delete the record COLLECTION/RKEY' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l sleep -d 'Afterwards tell the relay this machine goes offline: XRPC writes answer 503 at once, until it syncs again'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Bring this machine\'s copy of the repo in step with the relay and send local changes (built here, signed by the relay)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l out -d 'Folder to write into (created if needed; an earlier export of the same account there is resumed)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand export" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l recovery-key -l rotation-key -d 'The user\'s rotation-key file (from `account create --generate-recovery-key`), to sign the PLC update that moves the DID to this pdsd. Needed when this pdsd does not host the DID yet' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l handle -d 'Host the account under this handle instead of the exported one' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l password-file -d 'A password for the moved account (its first line); without it, set one later with `pdsctl account reset-password`' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l old-pds -d 'The DID\'s current host (its URL), to sign the move with its own rotation key when you have none (com.atproto.identity.signPlcOperation; it e-mails a code first)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l old-password-file -d 'The account\'s password on the old host (first line; default: --password-file)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l plc-token-file -d 'The code the old host e-mailed (first line); without it, it is asked for' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l request-plc-token -d 'Only ask the old host to e-mail the code, then stop (scripts: run again with --plc-token-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand import" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -f -a "create" -d 'Split the account\'s rotation key into 3 shares (any 2 recover): this machine\'s keychain, the relay\'s escrow, and a recovery sheet. Makes the rotation key first when the account has none'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -f -a "status" -d 'Which shares exist and belong to the current backup (without putting the key together)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -f -a "log" -d 'Every split, re-split, release of the relay\'s share, recovery and transfer'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -f -a "rotate" -d 'Split again: new set, new shares everywhere; the old shares stop combining'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and not __fish_seen_subcommand_from create status log rotate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l share3 -d 'What Share 3 becomes: a recovery sheet to print, or a share file for another device (`device` is accepted for `file`)' -r -f -a "sheet\t'A recovery sheet to print (`.txt` and `.html`)'
file\t'A share file for another device (a USB stick, say)'"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l sheet-out -d 'Where Share 3 goes: the sheet\'s base name (`.txt` and `.html` are added), or the share file. Default: ./recovery-sheet-<handle>-<epoch>' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l share1-out -d 'Write Share 1 to this file (for another device) instead of this machine\'s keychain; required on the relay\'s own host' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l curve -d 'The curve of a newly generated rotation key' -r -f -a "secp256k1\t''
p256\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l key -d 'Split this existing rotation-key file instead of generating a key' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l password-file -d 'The account password (first line), to enrol this machine as a device' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l password-file -d 'The account password (first line), if this machine must enrol first' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l password-file -d 'The account password (first line), if this machine must enrol first' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from log" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l share -d 'Where the current shares come from: keychain, relay or a share FILE (repeat; default: keychain and relay)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l words-file -d 'Read the current sheet\'s 24 words from a file' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l share3 -d 'What the new Share 3 becomes' -r -f -a "sheet\t'A recovery sheet to print (`.txt` and `.html`)'
file\t'A share file for another device (a USB stick, say)'"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l sheet-out -d 'Where the new Share 3 goes (default: ./recovery-sheet-<handle>-<epoch>)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l share1-out -d 'Write the new Share 1 to this file instead of this machine\'s keychain' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l password-file -d 'The account password (first line): for the relay\'s share, and to enrol' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l words -d 'Type the current sheet\'s 24 words'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "create" -d 'Split the account\'s rotation key into 3 shares (any 2 recover): this machine\'s keychain, the relay\'s escrow, and a recovery sheet. Makes the rotation key first when the account has none'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "status" -d 'Which shares exist and belong to the current backup (without putting the key together)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "log" -d 'Every split, re-split, release of the relay\'s share, recovery and transfer'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Split again: new set, new shares everywhere; the old shares stop combining'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l share -d 'A share: keychain, relay (its escrow; needs the account password) or a share FILE. Repeat for a second one. Default: keychain, plus relay unless words are given' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l words-file -d 'Read the sheet\'s 24 words from a file (numbers and line breaks are fine)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l words-share -d 'The share number the words are (the sheet says it; 3 from `backup create`)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l password-file -d 'The account password (first line): for the relay\'s share, and for the account on the new pdsd with --to' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l out -d 'Where to download the account (an export folder). Default: ./<handle>-recovered' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l to -d 'Move the DID to this pdsd when the old relay is gone: its admin socket (on its host), or its public URL (an account there is created with the key\'s proof)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l from-export -d 'The export folder (`pdsctl export`, or an earlier recovery\'s --out) to import with --to' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l handle -d 'With --to: host the account under this handle instead of the exported one' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l email -d 'With --to URL: the account\'s e-mail address there (default: the export\'s)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l invite-code -d 'With --to URL: an invite code, when that server asks for one' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l words -d 'Type the 24 words of the recovery sheet (Tab completes a word)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l verify-only -d 'Only put the key together and check it against the PLC directory (works while the relay is down); sign nothing'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand recover" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -f -a "initiate" -d 'On the old device: start a transfer and show its code (and QR code)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -f -a "accept" -d 'On the new device: enter the code (or the QR payload)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -f -a "complete" -d 'On the old device: confirm, and hand the repo-host lease to the new device'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and not __fish_seen_subcommand_from initiate accept complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l password-file -d 'The account password (first line), if this machine must enrol first' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l no-qr -d 'Do not draw the QR code'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from initiate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from accept" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l password-file -d 'The account password (first line), if this machine must enrol first' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l relay -d 'The relay\'s URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled with, else the public URL of the local pdsd (--socket)' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l plc-url -d 'The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL). Default: the one the local pdsd uses, else https://plc.directory' -r
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l keychain -d 'Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl was built with the `keychain` feature and one answers, else a 0600 file in the data folder), `os`, or `file` (`none`: no OS keychain, the file)' -r -f -a "auto\t''
os\t''
file\t''
none\t''"
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l data-dir -d 'pdsctl\'s data folder, holding the device key (device.json, mode 0600) and the desktop\'s copy of the repo (repo.car). Also $PDSCTL_DATA_DIR' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l remove-old -d 'De-enrol this device once the new one is in'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from complete" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from help" -f -a "initiate" -d 'On the old device: start a transfer and show its code (and QR code)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from help" -f -a "accept" -d 'On the new device: enter the code (or the QR payload)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from help" -f -a "complete" -d 'On the old device: confirm, and hand the repo-host lease to the new device'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand transfer; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l out -d 'Output folder' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l socket -d 'pdsd\'s admin socket (also $PDSCTL_SOCKET)' -r -F
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -l json -d 'Print one stable JSON document on stdout (for scripts); messages go to stderr'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s y -l yes -d 'Never prompt: fail instead of asking (for scripts)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand generate" -s V -l version -d 'Print version'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "status" -d 'Show the daemon\'s version, uptime, addresses, accounts, storage, PLC directory, relays and firehose position'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "account" -d 'Create, list, inspect and manage hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "invite" -d 'Make invite codes'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "did" -d 'Inspect an account\'s did:plc identity, or rotate its signing key'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "oauth" -d 'Show and revoke the third-party apps an account has authorized with OAuth'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "device" -d 'This machine as a device of an account on a relay (over HTTPS, like the phone and desktop apps): enrol, list, promote to repo host, remove'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "desktop" -d 'This machine as the repo-host desktop: keep the repo here, build commits, have the relay sign them'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "export" -d 'Export an account (repository CAR and every blob) into a folder'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "import" -d 'Import an exported folder into this pdsd, creating or migrating the account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "backup" -d 'Shamir backup of the account\'s rotation key: 2 of 3 shares (this machine\'s keychain, the relay\'s escrow, a printed recovery sheet)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "recover" -d 'Take back an account with two of its three shares: prove the rotation key to the relay and enrol this machine, or move the DID to a new pdsd when the relay is gone'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "transfer" -d 'Move to a new device with a short code (and hand the repo-host lease over)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "generate" -d 'Write man pages or shell completions (keeps man/ and completions/ current)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and not __fish_seen_subcommand_from status account invite did oauth device desktop export import backup recover transfer generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "create" -d 'Create an account: the daemon makes its DID (did:plc) and repository'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "list" -d 'List hosted accounts'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "show" -d 'Show one account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "deactivate" -d 'Deactivate an account (it stops being served; its data is kept)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "activate" -d 'Activate a deactivated account'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "delete" -d 'Delete an account and all its data (asks first unless --yes)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "reset-password" -d 'Set a new password (asks for it twice unless --password-file)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "takedown" -d 'Take an account down (moderation): it is no longer served'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from account" -f -a "untakedown" -d 'Lift a takedown'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from invite" -f -a "create" -d 'Make invite codes and print them, one per line'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from did" -f -a "show" -d 'Show the DID document, its keys (whose each is) and the PLC audit log'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from did" -f -a "rotate-signing-key" -d 'Give the account a new signing key (the relay signs the PLC update with its rotation key; the user\'s key can still override it for 72 hours)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from oauth" -f -a "list" -d 'Show the apps an account has authorized, with their live sessions'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from oauth" -f -a "revoke" -d 'End an app\'s access: every session of a client_id, or one session by its id'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "enroll" -d 'Enrol this machine as a device of an account on a relay (a new P-256 key, kept in pdsctl\'s data folder with mode 0600)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "list" -d 'List the account\'s devices (pending and active), as this device sees them'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "promote" -d 'Make a desktop the account\'s repo host (desktop-enrolled mode): it builds the commits, the relay signs them. Promoting this machine also fetches its copy of the repo'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "remove" -d 'De-enrol a device: its key no longer authenticates (and leaves the DID\'s rotation keys if it was there). Removing this machine also deletes its key file'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from desktop" -f -a "sync" -d 'Bring this machine\'s copy of the repo in step with the relay and send local changes (built here, signed by the relay)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "create" -d 'Split the account\'s rotation key into 3 shares (any 2 recover): this machine\'s keychain, the relay\'s escrow, and a recovery sheet. Makes the rotation key first when the account has none'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "status" -d 'Which shares exist and belong to the current backup (without putting the key together)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "log" -d 'Every split, re-split, release of the relay\'s share, recovery and transfer'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "rotate" -d 'Split again: new set, new shares everywhere; the old shares stop combining'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from transfer" -f -a "initiate" -d 'On the old device: start a transfer and show its code (and QR code)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from transfer" -f -a "accept" -d 'On the new device: enter the code (or the QR payload)'
complete -c pdsctl -n "__fish_pdsctl_using_subcommand help; and __fish_seen_subcommand_from transfer" -f -a "complete" -d 'On the old device: confirm, and hand the repo-host lease to the new device'
