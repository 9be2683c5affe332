from shixin.cli import main

main()
