from flowcase.cli import main

main()
